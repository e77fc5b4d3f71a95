"""DeliverNotifications: send what the outbox holds, at least once."""

from __future__ import annotations

from datetime import timedelta

from application.errors import DependencyUnavailable
from application.ports.clock import Clock
from application.ports.notifications import Notifier
from application.ports.unit_of_work import UnitOfWorkFactory

LEASE = timedelta(seconds=30)
"""How long a claimed notification is reserved for the worker that claimed it."""
RETRY_BACKOFF = timedelta(seconds=10)
MAX_BACKOFF = timedelta(hours=1)


class DeliverNotifications:
    """Claims due notifications, sends each, and marks it delivered; a failed send is retried later
    with a growing delay. A worker that dies after sending and before marking causes one more send:
    delivery is at least once, so receivers deduplicate by the notification's id.

    Raises:
        DependencyUnavailable: the store is down; nothing was lost.
    """

    def __init__(
        self,
        *,
        unit_of_work: UnitOfWorkFactory,
        notifier: Notifier,
        clock: Clock,
        batch_size: int = 50,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._notifier = notifier
        self._clock = clock
        self._batch_size = batch_size

    async def __call__(self) -> int:
        """Delivers one batch; returns how many were delivered."""
        now = self._clock.now()
        async with self._unit_of_work() as uow:
            claimed = await uow.outbox.claim(now, now + LEASE, self._batch_size)
            await uow.commit()
        delivered = 0
        for pending in claimed:
            try:
                await self._notifier.send(pending.notification)
            except DependencyUnavailable:
                backoff = min(RETRY_BACKOFF * 2 ** min(pending.attempts, 10), MAX_BACKOFF)
                async with self._unit_of_work() as uow:
                    await uow.outbox.retry_later(pending.id, self._clock.now() + backoff)
                    await uow.commit()
                continue
            async with self._unit_of_work() as uow:
                await uow.outbox.delivered(pending.id, self._clock.now())
                await uow.commit()
            delivered += 1
        return delivered
