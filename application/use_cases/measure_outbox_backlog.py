"""MeasureOutboxBacklog: how many notifications wait for delivery, for the operators' gauge."""

from __future__ import annotations

from application.ports.operational_metrics import OperationalMetrics
from application.ports.unit_of_work import UnitOfWorkFactory


class MeasureOutboxBacklog:
    """Counts the undelivered notifications and reports the count.

    Raises:
        DependencyUnavailable: the store is down; nothing is reported.
    """

    def __init__(self, *, unit_of_work: UnitOfWorkFactory, metrics: OperationalMetrics) -> None:
        self._unit_of_work = unit_of_work
        self._metrics = metrics

    async def __call__(self) -> int:
        async with self._unit_of_work() as uow:
            undelivered = await uow.outbox.backlog()
        self._metrics.outbox_backlog(undelivered)
        return undelivered
