"""Step-up: sensitive changes need a recent authentication with a second factor, or a current code
(RFC 9470)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.errors import SecondFactorSignInRequired, StepUpRequired
from application.ports.audit import RequestContext
from application.use_cases.verify_code import VerifyCode, VerifyCommand
from domain.errors import InvalidCodeFormat

SECOND_FACTOR_AMR = frozenset({"mfa", "otp", "hwk", "swk", "sc", "fido"})
"""RFC 8176 method values that show a second factor was used."""


STEP_UP_CODE_FIELD = "X-MFA-Code"
"""Where a current code sent as a step-up travels (a header: DELETE has no body)."""

CLOCK_SKEW_SECONDS = 60
"""How far in the future an ``auth_time`` may lie: the identity provider's clock may run ahead."""


@dataclass(frozen=True, slots=True)
class Authentication:
    """What the request shows of the user's authentication: the token's ``auth_time``, ``amr`` and
    ``acr``, and a current code sent with the request, if any."""

    auth_time: int | None
    amr: tuple[str, ...] = ()
    acr: str | None = None
    current_code: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class StepUpPolicy:
    max_age: timedelta = timedelta(minutes=5)
    second_factor_amr: frozenset[str] = SECOND_FACTOR_AMR
    second_factor_acr: frozenset[str] = field(default_factory=frozenset)


class StepUp:
    """Decides whether a request may make a sensitive change (add an authenticator while one is
    active, revoke one, regenerate recovery codes).

    It may when the token's ``auth_time`` is within ``max_age`` and, if the user has an active
    authenticator, its ``amr`` or ``acr`` shows a second factor; or when the request carries a
    current code, which is then checked (and used up) like any other.
    """

    def __init__(self, policy: StepUpPolicy, verify_code: VerifyCode) -> None:
        self._policy = policy
        self._verify_code = verify_code

    async def require(
        self,
        user_id: str,
        authentication: Authentication,
        *,
        has_active_authenticator: bool,
        now: datetime,
        context: RequestContext,
    ) -> None:
        """Returns when the request may proceed.

        Raises:
            StepUpRequired: neither a recent enough second-factor authentication nor a code.
            CodeRejected, LockedOut, DependencyUnavailable: the code sent was checked and failed.
        """
        if self._recent_enough(authentication, has_active_authenticator, now):
            return
        if authentication.current_code is not None and has_active_authenticator:
            try:
                await self._verify_code(
                    VerifyCommand(user_id, authentication.current_code, None, context)
                )
            except InvalidCodeFormat as malformed:
                raise InvalidCodeFormat(str(malformed), STEP_UP_CODE_FIELD) from None
            return
        raise StepUpRequired(int(self._policy.max_age.total_seconds()))

    def require_second_factor(self, authentication: Authentication, now: datetime) -> None:
        """Returns when the token shows a second factor used within ``max_age`` (its ``amr`` or
        ``acr``); a code sent with the request does not count. The rule for helpdesk agents,
        whose second factor lives with their identity provider, not here.

        Raises:
            SecondFactorSignInRequired: it does not.
        """
        if not self._recent_enough(authentication, True, now):
            raise SecondFactorSignInRequired(int(self._policy.max_age.total_seconds()))

    def _recent_enough(
        self, authentication: Authentication, has_active_authenticator: bool, now: datetime
    ) -> bool:
        if authentication.auth_time is None:
            return False
        age = now.timestamp() - authentication.auth_time
        if not -CLOCK_SKEW_SECONDS <= age <= self._policy.max_age.total_seconds():
            return False
        if not has_active_authenticator:
            return True
        return bool(set(authentication.amr) & self._policy.second_factor_amr) or (
            authentication.acr is not None and authentication.acr in self._policy.second_factor_acr
        )
