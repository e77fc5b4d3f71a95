"""The enrollment aggregate: one authenticator of one user, from pending to active to revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from domain.device_name import validate_device_name
from domain.mfa_method import MfaMethod
from domain.policy import TotpPolicy


class EnrollmentStatus(StrEnum):
    """Where an authenticator is in its life."""

    PENDING = "pending"
    """Created, secret shown once, waiting for the first code."""
    ACTIVE = "active"
    """Confirmed with a code; checked at sign-in."""
    REVOKED = "revoked"
    """Removed by its owner; never accepted again."""


@dataclass(eq=False, slots=True, kw_only=True)
class Enrollment:
    """An authenticator app bound to one user.

    The secret is held only as ``sealed_secret``, a ciphertext made by the secret cipher and bound to
    this user and enrollment; the aggregate never sees the plaintext. ``version`` grows with every
    stored change and lets the repository refuse a lost update.
    """

    id: UUID
    user_id: str
    method: MfaMethod
    policy: TotpPolicy
    sealed_secret: str
    device_name: str | None
    status: EnrollmentStatus
    created_at: datetime
    expires_at: datetime | None
    activated_at: datetime | None = None
    version: int = 1

    @classmethod
    def start(
        cls,
        *,
        enrollment_id: UUID,
        user_id: str,
        method: MfaMethod,
        policy: TotpPolicy,
        sealed_secret: str,
        device_name: str | None,
        now: datetime,
        pending_ttl: timedelta,
    ) -> Enrollment:
        """A new pending enrollment that expires ``pending_ttl`` after ``now``.

        Raises:
            InvalidDeviceName: ``device_name`` is not 1 to 64 printable characters.
        """
        return cls(
            id=enrollment_id,
            user_id=user_id,
            method=method,
            policy=policy,
            sealed_secret=sealed_secret,
            device_name=None if device_name is None else validate_device_name(device_name),
            status=EnrollmentStatus.PENDING,
            created_at=now,
            expires_at=now + pending_ttl,
        )

    def is_expired(self, now: datetime) -> bool:
        """Whether a pending enrollment has passed its expiry (an active one never expires)."""
        return (
            self.status is EnrollmentStatus.PENDING
            and self.expires_at is not None
            and now >= self.expires_at
        )

    def rename(self, device_name: str | None) -> None:
        """Gives the authenticator another name (or none).

        Raises:
            InvalidDeviceName: ``device_name`` is not 1 to 64 printable characters.
        """
        self.device_name = None if device_name is None else validate_device_name(device_name)

    def reseal(self, sealed_secret: str) -> None:
        """Replaces the ciphertext with one of the same secret under a newer key (key rotation)."""
        self.sealed_secret = sealed_secret
