from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID


class NotificationKind(StrEnum):
    """What the user is told about (API.md "Operations")."""

    AUTHENTICATOR_ADDED = "authenticator.added"
    AUTHENTICATOR_REMOVED = "authenticator.removed"
    LOCKED_OUT = "user.locked_out"
    RECOVERY_CODES_REGENERATED = "recovery_codes.regenerated"
    FACTORS_RESET = "user.factors_reset"
    UNLOCKED = "user.unlocked"


@dataclass(frozen=True, slots=True)
class Notification:
    """A message for the user about a change to their second factor. Never carries a secret."""

    kind: NotificationKind
    user_id: str
    enrollment_id: UUID | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class PendingNotification:
    id: int
    notification: Notification
    attempts: int


class Outbox(Protocol):
    """Notifications written in the same transaction as the change they announce, delivered later
    at least once."""

    async def add(self, notification: Notification) -> None:
        """Stages ``notification``; it becomes durable when the unit of work commits."""
        ...

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[PendingNotification]:
        """Up to ``limit`` undelivered notifications due at ``now``, leased until ``lease_until`` so
        that no other worker claims them meanwhile."""
        ...

    async def delivered(self, notification_id: int, now: datetime) -> None:
        """Marks a claimed notification delivered."""
        ...

    async def retry_later(self, notification_id: int, due: datetime) -> None:
        """Counts a failed delivery and makes the notification due again at ``due``."""
        ...

    async def backlog(self) -> int:
        """How many notifications are not delivered yet (due or waiting for a retry)."""
        ...


class Notifier(Protocol):
    """Tells the user (e-mail, push, the bank's messaging service)."""

    async def send(self, notification: Notification) -> None:
        """Returns once the notification was accepted.

        Raises:
            DependencyUnavailable: it was not; it will be sent again.
        """
        ...
