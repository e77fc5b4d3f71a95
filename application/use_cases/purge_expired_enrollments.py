"""PurgeExpiredEnrollments: delete pending enrollments that were never confirmed in time."""

from __future__ import annotations

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory


class PurgeExpiredEnrollments:
    """Removes expired pending enrollments and their ciphertexts, and expired idempotency records;
    returns how many enrollments.

    Raises:
        DependencyUnavailable: the store is down; nothing was removed.
    """

    def __init__(self, *, unit_of_work: UnitOfWorkFactory, clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock

    async def __call__(self) -> int:
        async with self._unit_of_work() as uow:
            now = self._clock.now()
            removed = await uow.enrollments.remove_expired_pending(now)
            await uow.idempotency.remove_expired(now)
            await uow.commit()
        return removed
