from typing import Protocol

from domain.policy import TotpPolicy
from domain.secret import TotpSecret


class OtpGenerator(Protocol):
    """The TOTP maths (RFC 6238 over RFC 4226 HOTP)."""

    def code_at(self, secret: TotpSecret, policy: TotpPolicy, step: int) -> str:
        """The code for time step ``step`` (any non-negative integer, including past 2^32 s)."""
        ...
