"""Idempotent POSTs: the same key and body from the same user get the same answer."""

from __future__ import annotations

from datetime import timedelta

from application.errors import ApplicationError
from application.ports.clock import Clock
from application.ports.idempotency import StoredOutcome
from application.ports.unit_of_work import UnitOfWorkFactory

ANSWER_KEPT = timedelta(hours=24)
IN_FLIGHT_LEASE = timedelta(seconds=60)
"""A request that died holding a key frees it after this long."""


class IdempotencyKeyReused(ApplicationError):
    """The key was used with another request body."""


class IdempotentRequestInFlight(ApplicationError):
    """The first request with this key is still running."""


class IdempotencyGuard:
    """Reserves a key before a request runs and keeps its answer afterwards.

    Answers are kept 24 hours and never hold a secret: callers store a body without secrets and
    recovery codes, and re-derive what the first answer showed (an enrollment's secret comes again
    from its stored, encrypted row).
    """

    def __init__(self, *, unit_of_work: UnitOfWorkFactory, clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock

    async def begin(self, user_id: str, key: str, request_fingerprint: str) -> StoredOutcome | None:
        """None when the request should run now; the earlier answer when it ran already.

        Raises:
            IdempotencyKeyReused: the key came with another body (422).
            IdempotentRequestInFlight: the first request is still running (409).
        """
        now = self._clock.now()
        async with self._unit_of_work() as uow:
            existing = await uow.idempotency.reserve(
                user_id, key, request_fingerprint, now, now + IN_FLIGHT_LEASE
            )
            await uow.commit()
        if existing is None:
            return None
        if existing.fingerprint != request_fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was used with another request")
        if existing.outcome is None:
            raise IdempotentRequestInFlight("a request with this Idempotency-Key is still running")
        return existing.outcome

    async def finish(self, user_id: str, key: str, outcome: StoredOutcome) -> None:
        async with self._unit_of_work() as uow:
            await uow.idempotency.complete(user_id, key, outcome, self._clock.now() + ANSWER_KEPT)
            await uow.commit()

    async def abandon(self, user_id: str, key: str) -> None:
        async with self._unit_of_work() as uow:
            await uow.idempotency.release(user_id, key)
            await uow.commit()
