"""What happened to a user's second factor: appended by the aggregates as they change, and turned
into audit rows, notifications and counts when the unit of work that stores the change commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Something that happened to ``user_id`` at ``occurred_at``. Never carries a secret or a code."""

    user_id: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class EnrollmentStarted(DomainEvent):
    enrollment_id: UUID


@dataclass(frozen=True, slots=True)
class EnrollmentReplaced(DomainEvent):
    """A pending enrollment gave way to a newer one of the same user; its secret stops working."""

    enrollment_id: UUID


@dataclass(frozen=True, slots=True)
class EnrollmentConfirmed(DomainEvent):
    enrollment_id: UUID


@dataclass(frozen=True, slots=True)
class EnrollmentCancelled(DomainEvent):
    """A pending enrollment was removed by its owner or an agent."""

    enrollment_id: UUID


@dataclass(frozen=True, slots=True)
class AuthenticatorRevoked(DomainEvent):
    enrollment_id: UUID


@dataclass(frozen=True, slots=True)
class AuthenticatorRenamed(DomainEvent):
    enrollment_id: UUID


@dataclass(frozen=True, slots=True)
class CodeAccepted(DomainEvent):
    enrollment_id: UUID


@dataclass(frozen=True, slots=True)
class CodeRefused(DomainEvent):
    """A checked code was wrong, or right but used already (``replayed``, of ``enrollment_id``)."""

    enrollment_id: UUID | None
    replayed: bool


@dataclass(frozen=True, slots=True)
class CheckBlocked(DomainEvent):
    """A check was refused unchecked: a block runs, or attempts in flight fill the quota."""


@dataclass(frozen=True, slots=True)
class CheckInterrupted(DomainEvent):
    """A reserved check could not be made (a dependency failed); its attempt was given back."""


@dataclass(frozen=True, slots=True)
class CheckWithdrawn(DomainEvent):
    """A reserved check found nothing left to check (its enrollment was cancelled meanwhile); its
    attempt was given back."""


@dataclass(frozen=True, slots=True)
class LockoutStarted(DomainEvent):
    """The fifth consecutive failure started a block."""


@dataclass(frozen=True, slots=True)
class RecoveryCodeUsed(DomainEvent):
    pass


@dataclass(frozen=True, slots=True)
class LockoutLifted(DomainEvent):
    """An agent cleared the count and any block; ``anything`` tells whether there was something."""

    anything: bool


@dataclass(frozen=True, slots=True)
class FactorsReset(DomainEvent):
    """An agent took every factor away: ``revoked`` authenticators, ``cancelled`` pending ones and
    ``voided`` unused recovery codes. It stands for the revocations it made."""

    revoked: int
    cancelled: int
    voided: int
