"""Operational metrics kept in memory, for tests and embedding programs that read them directly."""

from __future__ import annotations

from collections import Counter

from application.ports.operational_metrics import BusinessEvent


class MemoryOperationalMetrics:
    """Implements OperationalMetrics: counts per event and the last backlog reported."""

    def __init__(self) -> None:
        self.counts: Counter[BusinessEvent] = Counter()
        self.backlog: int | None = None

    def occurred(self, event: BusinessEvent) -> None:
        self.counts[event] += 1

    def outbox_backlog(self, undelivered: int) -> None:
        self.backlog = undelivered
