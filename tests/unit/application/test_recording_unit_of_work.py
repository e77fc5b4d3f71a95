"""A unit of work records what its aggregates did, and counts business events, when it commits,
and only then."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.operational_metrics import MemoryOperationalMetrics
from adapters.memory.store import MemoryUnitOfWorkFactory
from application.errors import ConcurrentUpdate, NoActiveAuthenticator
from application.event_records import Acting, EventRecords
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.notifications import Notification, NotificationKind
from application.ports.operational_metrics import BusinessEvent
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.measure_outbox_backlog import MeasureOutboxBacklog
from domain.enrollment import Enrollment
from domain.mfa_method import MfaMethod
from domain.policy import TotpPolicy
from domain.throttle import MAX_CONSECUTIVE_FAILURES

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
CONTEXT = RequestContext("test-request-1")


def _event(action: AuditAction) -> AuditEvent:
    return AuditEvent(action, "alice", None, NOW, CONTEXT)


def _pending(user_id: str) -> Enrollment:
    return Enrollment.start(
        enrollment_id=uuid.uuid4(), user_id=user_id, method=MfaMethod.TOTP, policy=TotpPolicy(),
        sealed_secret="sealed", device_name=None, now=NOW,
        pending_ttl=timedelta(minutes=10),
    )  # fmt: skip


@pytest.fixture
def metrics() -> MemoryOperationalMetrics:
    return MemoryOperationalMetrics()


@pytest.fixture
def counting(metrics: MemoryOperationalMetrics) -> RecordingUnitsOfWork:
    return RecordingUnitsOfWork(MemoryUnitOfWorkFactory(), EventRecords(metrics))


async def test_committed_audit_events_and_announcements_count(
    counting: RecordingUnitsOfWork, metrics: MemoryOperationalMetrics
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
    counting: RecordingUnitsOfWork, metrics: MemoryOperationalMetrics
) -> None:
    async with counting() as uow:
        await uow.audit.append(_event(AuditAction.ENROLLMENT_STARTED))

    assert metrics.counts == Counter()


async def test_a_refused_commit_counts_nothing(metrics: MemoryOperationalMetrics) -> None:
    store = MemoryUnitOfWorkFactory()
    counting = RecordingUnitsOfWork(store, EventRecords(metrics))
    async with counting(CONTEXT) as uow:
        await uow.enrollments.add(_pending("alice"))
        await uow.audit.append(_event(AuditAction.CODE_VERIFIED))
        async with store() as other:  # the user gains a pending enrollment meanwhile
            await other.enrollments.add(_pending("alice"))
            await other.commit()
        with pytest.raises(ConcurrentUpdate):
            await uow.commit()

    assert metrics.counts == Counter()


async def test_a_check_refused_inside_its_unit_of_work_counts_its_refusal(
    counting: RecordingUnitsOfWork, metrics: MemoryOperationalMetrics
) -> None:
    with pytest.raises(NoActiveAuthenticator):
        async with counting():
            raise NoActiveAuthenticator("no active authenticator")

    assert metrics.counts == Counter({BusinessEvent.VERIFICATION_NO_AUTHENTICATOR: 1})


async def test_the_backlog_is_reported(
    counting: RecordingUnitsOfWork, metrics: MemoryOperationalMetrics
) -> None:
    async with counting() as uow:
        await uow.outbox.add(Notification(NotificationKind.LOCKED_OUT, "alice", None, NOW))
        await uow.commit()

    assert await MeasureOutboxBacklog(unit_of_work=counting, metrics=metrics)() == 1
    assert metrics.backlog == 1


async def _fail_five_times(counting: RecordingUnitsOfWork, acting: Acting | None) -> None:
    for _ in range(MAX_CONSECUTIVE_FAILURES):
        async with counting(acting) as uow:
            throttle = await uow.throttles.lock("alice")
            throttle.reserve(NOW)
            throttle.fail(NOW)
            await uow.throttles.save(throttle)
            await uow.commit()


async def test_the_events_of_the_aggregates_it_saw_are_recorded_and_counted_at_commit(
    metrics: MemoryOperationalMetrics,
) -> None:
    store = MemoryUnitOfWorkFactory()
    await _fail_five_times(RecordingUnitsOfWork(store, EventRecords(metrics)), Acting(CONTEXT))

    actions = [event.action for event in store.store.audit_events]
    assert actions == [AuditAction.CODE_REJECTED] * 5 + [AuditAction.LOCKED_OUT]
    assert {event.context for event in store.store.audit_events} == {CONTEXT}
    assert [n.notification.kind for n in store.store.outbox] == [NotificationKind.LOCKED_OUT]
    assert metrics.counts == Counter(
        {BusinessEvent.VERIFICATION_WRONG: 5, BusinessEvent.LOCKOUT_STARTED: 1}
    )


async def test_the_events_of_a_unit_left_without_commit_are_dropped(
    metrics: MemoryOperationalMetrics,
) -> None:
    store = MemoryUnitOfWorkFactory()
    counting = RecordingUnitsOfWork(store, EventRecords(metrics))
    async with counting(CONTEXT) as uow:
        throttle = await uow.throttles.lock("alice")
        throttle.fail(NOW)
    async with counting(CONTEXT) as uow:
        await uow.throttles.save(throttle)
        await uow.commit()

    assert store.store.audit_events == []
    assert metrics.counts == Counter()


async def test_an_agent_is_recorded_as_the_actor_of_every_event_of_the_unit(
    metrics: MemoryOperationalMetrics,
) -> None:
    store = MemoryUnitOfWorkFactory()
    acting = Acting(CONTEXT, "agent-7", "lost phone", "TICKET-1")
    await _fail_five_times(RecordingUnitsOfWork(store, EventRecords(metrics)), acting)

    assert {(e.actor, e.reason, e.ticket) for e in store.store.audit_events} == {
        ("agent-7", "lost phone", "TICKET-1")
    }


async def test_events_without_a_context_to_record_them_with_are_refused(
    counting: RecordingUnitsOfWork,
) -> None:
    with pytest.raises(RuntimeError, match="Acting"):
        await _fail_five_times(counting, None)
