"""Why the first code of an enrollment failed, when the code tells: the device's clock is off, or
the app ignored the policy's parameters."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from application.errors import AuthenticatorParametersIgnored, DeviceClockSkew
from application.ports.otp_generator import OtpGenerator
from domain.enrollment import Enrollment
from domain.errors import InvalidCodeFormat
from domain.otp_code import parse_code
from domain.policy import TotpPolicy
from domain.secret import TotpSecret

SKEW_REACH = 10
"""How many steps away a confirming code is looked for, to tell the user their clock is off."""


def parse_first_code(code: str, policy: TotpPolicy) -> str:
    """The code in the policy's form; or, for a policy most apps ignore, a 6-digit code, kept for
    the diagnosis that the app ignored the parameters.

    Raises:
        InvalidCodeFormat: neither.
    """
    try:
        return parse_code(code, policy.digits)
    except InvalidCodeFormat:
        if policy.is_widely_supported:
            raise
        return parse_code(code, TotpPolicy().digits)


class FirstCodeDiagnosis:
    """Looks at a first code that matched no step of the window."""

    def __init__(self, generator: OtpGenerator, window: int) -> None:
        self._generator = generator
        self._window = window

    def raise_why(
        self,
        enrollment: Enrollment,
        secret: TotpSecret,
        code: str,
        now: datetime,
        attempts_left: int,
    ) -> None:
        """Raises a more helpful rejection when the code tells why it failed; else returns.

        Raises:
            DeviceClockSkew: the code is the device's for 2 to ``SKEW_REACH`` steps away.
            AuthenticatorParametersIgnored: the code is the SHA1/6/30 one.
        """
        policy = enrollment.policy
        if len(code) == policy.digits:
            generate = partial(self._generator.code_at, secret, policy)
            skew = enrollment.clock_skew_steps(code, now, generate, self._window, SKEW_REACH)
            if skew is not None:
                raise DeviceClockSkew(attempts_left, skew * policy.period)
        if not policy.is_widely_supported:
            default = TotpPolicy()
            step = default.time_step(now.timestamp())
            window = range(step - self._window, step + self._window + 1)
            if any(self._generator.code_at(secret, default, s) == code for s in window):
                raise AuthenticatorParametersIgnored(attempts_left)
