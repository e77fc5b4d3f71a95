"""Business events count when their unit of work commits, and only then."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from adapters.memory.operational_metrics import MemoryOperationalMetrics
from adapters.memory.store import MemoryUnitOfWorkFactory
from application.errors import ConcurrentUpdate, NoActiveAuthenticator
from application.event_counting import CountingUnitOfWorkFactory
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.notifications import Notification, NotificationKind
from application.ports.operational_metrics import BusinessEvent
from application.use_cases.measure_outbox_backlog import MeasureOutboxBacklog

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
CONTEXT = RequestContext("test-request-1")


def _event(action: AuditAction) -> AuditEvent:
    return AuditEvent(action, "alice", None, NOW, CONTEXT)


@pytest.fixture
def metrics() -> MemoryOperationalMetrics:
    return MemoryOperationalMetrics()


@pytest.fixture
def counting(metrics: MemoryOperationalMetrics) -> CountingUnitOfWorkFactory:
    return CountingUnitOfWorkFactory(MemoryUnitOfWorkFactory(), metrics)


async def test_committed_audit_events_and_announcements_count(
    counting: CountingUnitOfWorkFactory, metrics: MemoryOperationalMetrics
) -> None:
    async with counting() as uow:
        await uow.audit.append(_event(AuditAction.CODE_REJECTED))
        await uow.audit.append(_event(AuditAction.LOCKED_OUT))
        await uow.audit.append(_event(AuditAction.AUTHENTICATOR_RENAMED))
        await uow.outbox.add(
            Notification(NotificationKind.RECOVERY_CODES_REGENERATED, "alice", None, NOW)
        )
        await uow.commit()

    assert metrics.counts == Counter(
        {
            BusinessEvent.VERIFICATION_WRONG: 1,
            BusinessEvent.LOCKOUT_STARTED: 1,
            BusinessEvent.RECOVERY_CODES_REGENERATED: 1,
        }
    )


async def test_a_unit_of_work_left_without_commit_counts_nothing(
    counting: CountingUnitOfWorkFactory, metrics: MemoryOperationalMetrics
) -> None:
    async with counting() as uow:
        await uow.audit.append(_event(AuditAction.ENROLLMENT_STARTED))

    assert metrics.counts == Counter()


async def test_a_refused_commit_counts_nothing(metrics: MemoryOperationalMetrics) -> None:
    store = MemoryUnitOfWorkFactory()
    counting = CountingUnitOfWorkFactory(store, metrics)
    async with counting() as uow:
        throttle = await uow.throttles.lock("alice")
        await uow.throttles.save(throttle)
        await uow.audit.append(_event(AuditAction.CODE_VERIFIED))
        async with store() as other:
            await other.throttles.save(await other.throttles.lock("alice"))
            await other.commit()
        with pytest.raises(ConcurrentUpdate):
            await uow.commit()

    assert metrics.counts == Counter()


async def test_a_check_refused_inside_its_unit_of_work_counts_its_refusal(
    counting: CountingUnitOfWorkFactory, metrics: MemoryOperationalMetrics
) -> None:
    with pytest.raises(NoActiveAuthenticator):
        async with counting():
            raise NoActiveAuthenticator("no active authenticator")

    assert metrics.counts == Counter({BusinessEvent.VERIFICATION_NO_AUTHENTICATOR: 1})


async def test_the_backlog_is_reported(
    counting: CountingUnitOfWorkFactory, metrics: MemoryOperationalMetrics
) -> None:
    async with counting() as uow:
        await uow.outbox.add(Notification(NotificationKind.LOCKED_OUT, "alice", None, NOW))
        await uow.commit()

    assert await MeasureOutboxBacklog(unit_of_work=counting, metrics=metrics)() == 1
    assert metrics.backlog == 1
