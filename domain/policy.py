"""TOTP parameters: hash algorithm, number of digits and time step (RFC 6238)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidTotpPolicy


class HashAlgorithm(StrEnum):
    """The HMAC hash functions RFC 6238 section 1.2 allows."""

    SHA1 = "SHA1"
    SHA256 = "SHA256"
    SHA512 = "SHA512"


ALLOWED_DIGITS = range(6, 9)
"""RFC 4226 section 5.3: at least 6 digits; 8 is the most common apps accept."""

ALLOWED_PERIODS = range(15, 121)
"""Seconds per time step. RFC 6238 recommends 30; outside 15-120 s codes become unusable or too long-lived."""


@dataclass(frozen=True, slots=True)
class TotpPolicy:
    """The parameters of one authenticator, recorded with it when it is enrolled.

    The default SHA1 / 6 digits / 30 s is the only combination that Google Authenticator, Authy and
    Microsoft Authenticator honour (SECURITY.md S2); other values can be configured per deployment.
    A policy stored with an authenticator never changes, so a new deployment policy never breaks it.

    Raises:
        InvalidTotpPolicy: digits or period out of range.
    """

    algorithm: HashAlgorithm = HashAlgorithm.SHA1
    digits: int = 6
    period: int = 30

    def __post_init__(self) -> None:
        if self.digits not in ALLOWED_DIGITS:
            raise InvalidTotpPolicy(
                f"digits must be between {ALLOWED_DIGITS.start} and {ALLOWED_DIGITS.stop - 1}"
            )
        if self.period not in ALLOWED_PERIODS:
            raise InvalidTotpPolicy(
                f"period must be between {ALLOWED_PERIODS.start} and {ALLOWED_PERIODS.stop - 1} seconds"
            )

    @property
    def is_widely_supported(self) -> bool:
        """Whether every common authenticator app produces correct codes with these parameters."""
        return self == TotpPolicy()

    def time_step(self, unix_time: float) -> int:
        """The RFC 6238 counter T = floor((unix_time - T0) / X) with T0 = 0.

        Python integers are unbounded, so times past 2^32 seconds (year 2106) work (S3).
        """
        return math.floor(unix_time / self.period)


WIDELY_SUPPORTED_APPS = (
    "Google Authenticator",
    "Microsoft Authenticator",
    "Authy",
    "1Password",
    "Bitwarden",
    "Aegis",
    "FreeOTP",
    "2FAS",
)
FULL_PARAMETER_APPS = ("1Password", "Bitwarden", "Aegis", "FreeOTP", "2FAS")
"""Apps that honour the algorithm, digits and period of the otpauth URI. Google Authenticator,
Microsoft Authenticator and Authy read only the secret and produce SHA1 / 6 / 30 codes (S2)."""


def supported_apps(policy: TotpPolicy) -> tuple[str, ...]:
    """The common authenticator apps that produce correct codes for ``policy``."""
    return WIDELY_SUPPORTED_APPS if policy.is_widely_supported else FULL_PARAMETER_APPS
