"""ExportAuditTrail reads in batches, each its own short unit of work, and audits the export
before the first batch leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.clock import FrozenClock
from adapters.memory.store import MemoryUnitOfWork, MemoryUnitOfWorkFactory
from application.agent import Agent
from application.errors import DependencyUnavailable, InvalidAdminRequest
from application.ports.audit import AuditAction, AuditEvent, AuditQuery, RequestContext
from application.use_cases.export_audit_trail import ExportAuditTrail

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
CONTEXT = RequestContext("request-0001")
AGENT = Agent("agent-1")
KEY = b"k" * 32


class CountingStore(MemoryUnitOfWorkFactory):
    """Counts the units of work opened, and fails every one from ``fail_from`` on."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = 0
        self.fail_from: int | None = None

    def __call__(self) -> MemoryUnitOfWork:
        self.opened += 1
        if self.fail_from is not None and self.opened >= self.fail_from:
            raise DependencyUnavailable("database")
        return super().__call__()


async def _seed(store: CountingStore, count: int) -> None:
    async with store() as uow:
        for second in range(count):
            await uow.audit.append(
                AuditEvent(
                    AuditAction.CODE_REJECTED,
                    "alice",
                    None,
                    NOW + timedelta(seconds=second),
                    CONTEXT,
                )
            )
        await uow.commit()
    store.opened = 0


async def test_the_export_comes_in_batches_each_read_on_its_own_and_newest_first() -> None:
    store = CountingStore()
    await _seed(store, 5)
    export = ExportAuditTrail(
        unit_of_work=store, clock=FrozenClock(LATER), pseudonym_key=KEY, batch_size=2
    )

    batches = await export(AGENT, AuditQuery(user_id="alice"), CONTEXT)
    assert store.opened == 1
    [recorded] = store.store.audit_events[-1:]
    assert (recorded.action, recorded.actor) == (AuditAction.ADMIN_EXPORTED_AUDIT, "agent-1")
    sizes: list[int] = []
    times: list[datetime] = []
    async for batch in batches:
        sizes.append(len(batch))
        times.extend(r.event.occurred_at for r in batch)
        async with store() as uow:  # an event arriving during the export is not in it
            await uow.audit.append(
                AuditEvent(AuditAction.CODE_VERIFIED, "alice", None, LATER, CONTEXT)
            )
            await uow.commit()
    assert sizes == [2, 2, 1]
    assert times == sorted(times, reverse=True) and len(set(times)) == 5


async def test_a_store_failing_mid_export_raises_while_iterating() -> None:
    store = CountingStore()
    await _seed(store, 5)
    export = ExportAuditTrail(
        unit_of_work=store, clock=FrozenClock(NOW), pseudonym_key=KEY, batch_size=2
    )
    batches = await export(AGENT, AuditQuery(), CONTEXT)
    store.fail_from = 2
    with pytest.raises(DependencyUnavailable):
        async for _ in batches:
            pass


async def test_a_time_range_the_wrong_way_round_is_refused_before_anything_is_read() -> None:
    store = CountingStore()
    export = ExportAuditTrail(unit_of_work=store, clock=FrozenClock(NOW), pseudonym_key=KEY)
    with pytest.raises(InvalidAdminRequest):
        await export(AGENT, AuditQuery(since=NOW, until=NOW - timedelta(seconds=1)), CONTEXT)
    assert store.opened == 0
