"""The enrollment aggregate: one authenticator of one user, from pending to active to revoked."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from domain.device_name import validate_device_name
from domain.errors import EnrollmentExpired, EnrollmentNotPending, StepAlreadyUsed
from domain.events import (
    AuthenticatorRenamed,
    AuthenticatorRevoked,
    CodeAccepted,
    DomainEvent,
    EnrollmentCancelled,
    EnrollmentConfirmed,
    EnrollmentReplaced,
    EnrollmentStarted,
)
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
    stored change and lets the repository refuse a lost update. Every change appends what happened
    to ``events``, which the unit of work that stores it collects.
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
    last_used_step: int | None = None
    """The newest time step accepted; only later steps are accepted again (RFC 6238 section 5.2)."""
    last_used_at: datetime | None = None
    drift_steps: int = 0
    """How many steps the device's clock runs ahead (positive) or behind, learned from accepted codes."""
    revoked_at: datetime | None = None
    version: int = 1
    events: list[DomainEvent] = field(default_factory=list, init=False, repr=False, compare=False)

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
        enrollment = cls(
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
        enrollment.events.append(EnrollmentStarted(user_id, now, enrollment_id))
        return enrollment

    def collect_events(self) -> list[DomainEvent]:
        """The events appended since the last call, oldest first; they are handed out once."""
        collected = list(self.events)
        self.events.clear()
        return collected

    def is_expired(self, now: datetime) -> bool:
        """Whether a pending enrollment has passed its expiry (an active one never expires)."""
        return (
            self.status is EnrollmentStatus.PENDING
            and self.expires_at is not None
            and now >= self.expires_at
        )

    def match_code(
        self,
        code: str,
        now: datetime,
        code_at: Callable[[int], str],
        window: int,
        max_drift: int = 0,
    ) -> CodeMatch | None:
        """The time step whose code is ``code``, searched ``window`` steps either side of the
        current step shifted by the learned drift, as far as ``max_drift`` allows now (RFC 6238
        sections 5.2 and 6); None if none matches.

        Every candidate is compared, in constant time, so the time taken does not tell which step
        matched. A match at or before ``last_used_step`` is returned with ``replayed`` set: the
        caller must refuse it like a wrong code (SECURITY.md V2, V4).
        """
        current = self.policy.time_step(now.timestamp())
        centre = current + max(-max_drift, min(max_drift, self.drift_steps))
        matched: int | None = None
        for step in range(centre - window, centre + window + 1):
            if hmac.compare_digest(code_at(step).encode(), code.encode()) and matched is None:
                matched = step
        if matched is None:
            return None
        return CodeMatch(step=matched, offset=matched - current, replayed=self._spent(matched))

    def clock_skew_steps(
        self, code: str, now: datetime, code_at: Callable[[int], str], window: int, reach: int
    ) -> int | None:
        """For a code that did not match: the offset, in steps, of a step between ``window + 1``
        and ``reach`` steps away whose code it is, which suggests the device's clock is off; else
        None. A diagnostic only: such a code is still refused."""
        current = self.policy.time_step(now.timestamp())
        for distance in range(window + 1, reach + 1):
            for offset in (-distance, distance):
                if hmac.compare_digest(code_at(current + offset).encode(), code.encode()):
                    return offset
        return None

    def confirm(self, match: CodeMatch, now: datetime) -> None:
        """Activates a pending enrollment with its first code, whose step is then used up.

        Raises:
            EnrollmentNotPending: it is active or revoked already.
            EnrollmentExpired: it passed its expiry.
            StepAlreadyUsed: ``match`` is a replay.
        """
        self.ensure_confirmable(now)
        self._use(match, now)
        self.status = EnrollmentStatus.ACTIVE
        self.activated_at = now
        self.expires_at = None
        self.events.append(EnrollmentConfirmed(self.user_id, now, self.id))

    def ensure_confirmable(self, now: datetime) -> None:
        """Returns when a first code may confirm this enrollment.

        Raises:
            EnrollmentNotPending: it is active or revoked already.
            EnrollmentExpired: it passed its expiry.
        """
        if self.status is EnrollmentStatus.ACTIVE:
            raise EnrollmentNotPending("the enrollment is active already")
        if self.status is not EnrollmentStatus.PENDING:
            raise EnrollmentNotPending("the enrollment is not pending")
        if self.is_expired(now):
            raise EnrollmentExpired("the enrollment expired; start a new one")

    def give_way(self, now: datetime) -> None:
        """A pending enrollment is replaced by a newer one of the same user; the caller removes it.

        Raises:
            EnrollmentNotPending: it is active or revoked.
        """
        if self.status is not EnrollmentStatus.PENDING:
            raise EnrollmentNotPending("only a pending enrollment is replaced")
        self.events.append(EnrollmentReplaced(self.user_id, now, self.id))

    def cancel(self, now: datetime) -> None:
        """A pending enrollment is withdrawn by its owner or an agent; the caller removes it.

        Raises:
            EnrollmentNotPending: it is active or revoked (an active one is revoked instead).
        """
        if self.status is not EnrollmentStatus.PENDING:
            raise EnrollmentNotPending("only a pending enrollment is cancelled")
        self.events.append(EnrollmentCancelled(self.user_id, now, self.id))

    def record_use(self, match: CodeMatch, now: datetime, max_drift: int) -> None:
        """Uses up an active authenticator's step and learns the device's drift, bounded to
        ``max_drift`` steps either way.

        Raises:
            EnrollmentNotPending: it is not active.
            StepAlreadyUsed: ``match`` is a replay.
        """
        if self.status is not EnrollmentStatus.ACTIVE:
            raise EnrollmentNotPending("the authenticator is not active")
        self._use(match, now)
        self.drift_steps = max(-max_drift, min(max_drift, match.offset))
        self.events.append(CodeAccepted(self.user_id, now, self.id))

    def _spent(self, step: int) -> bool:
        """The replay rule, the only place it is decided: a step at or before the newest accepted
        one is never accepted again (RFC 6238 section 5.2; SECURITY.md V2)."""
        return self.last_used_step is not None and step <= self.last_used_step

    def _use(self, match: CodeMatch, now: datetime) -> None:
        if self._spent(match.step):
            raise StepAlreadyUsed("this code was used already")
        self.last_used_step = match.step
        self.last_used_at = now

    def revoke(self, now: datetime) -> None:
        """Retires an active authenticator for good: its codes are never accepted again.

        Raises:
            EnrollmentNotPending: it is not active (a pending one is cancelled by removing it).
        """
        if self.status is not EnrollmentStatus.ACTIVE:
            raise EnrollmentNotPending("only an active authenticator can be revoked")
        self.status = EnrollmentStatus.REVOKED
        self.revoked_at = now
        self.events.append(AuthenticatorRevoked(self.user_id, now, self.id))

    def rename(self, device_name: str | None, now: datetime) -> None:
        """Gives the authenticator another name (or none).

        Raises:
            InvalidDeviceName: ``device_name`` is not 1 to 64 printable characters.
        """
        self.device_name = None if device_name is None else validate_device_name(device_name)
        self.events.append(AuthenticatorRenamed(self.user_id, now, self.id))

    def reseal(self, sealed_secret: str) -> None:
        """Replaces the ciphertext with one of the same secret under a newer key (key rotation)."""
        self.sealed_secret = sealed_secret


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """A code that matched ``step``, ``offset`` steps from the verifier's current step;
    ``replayed`` when that step was used up already (``confirm`` and ``record_use`` refuse it)."""

    step: int
    offset: int
    replayed: bool
