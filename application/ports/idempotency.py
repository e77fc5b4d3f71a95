from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    """What a finished request answered, without any secret: a body from which secrets and
    recovery codes were left out, and the id of the resource it made, if any."""

    body: str
    resource_id: str | None = None


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    fingerprint: str
    outcome: StoredOutcome | None
    """None while the first request is still running."""
    expires_at: datetime


class IdempotencyStore(Protocol):
    """Remembers, per user and ``Idempotency-Key``, what a POST answered."""

    async def reserve(
        self, user_id: str, key: str, fingerprint: str, now: datetime, lease_until: datetime
    ) -> IdempotencyRecord | None:
        """Claims the key for a new request, or returns the live record already there. An expired
        record (an abandoned request, or an old answer) is replaced."""
        ...

    async def complete(
        self, user_id: str, key: str, outcome: StoredOutcome, expires_at: datetime
    ) -> None:
        """Stores the answer of the request that holds the key."""
        ...

    async def release(self, user_id: str, key: str) -> None:
        """Forgets a key whose request failed, so that a retry runs again."""
        ...

    async def remove_expired(self, now: datetime) -> int:
        """Deletes records past their expiry; returns how many."""
        ...
