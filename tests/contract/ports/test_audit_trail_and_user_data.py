"""The audit trail's reading (keyset pages, filters) and everything of one user (the helpdesk's view,
erasure), alike on every store: memory, SQLite and Postgres."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from application.ports.audit import (
    AuditAction,
    AuditEvent,
    AuditPosition,
    AuditQuery,
    RecordedAuditEvent,
    RequestContext,
)
from application.ports.idempotency import StoredOutcome
from application.ports.notifications import Notification, NotificationKind
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.pseudonym import pseudonym_of
from tests.contract.ports.stores import authenticator

NOW = datetime(2026, 11, 29, 12, 0, 0, 250000, tzinfo=UTC)
CONTEXT = RequestContext("request-0001", "192.0.2.1", "tests/1.0")
PSEUDONYM = pseudonym_of(b"k" * 32, "alice")


def _event(
    action: AuditAction, user: str = "alice", seconds: int = 0, **fields: str | None
) -> AuditEvent:
    return AuditEvent(action, user, None, NOW + timedelta(seconds=seconds), CONTEXT, **fields)


async def _append(unit_of_work: UnitOfWorkFactory, *events: AuditEvent) -> None:
    async with unit_of_work() as uow:
        for event in events:
            await uow.audit.append(event)
        await uow.commit()


async def _page(
    unit_of_work: UnitOfWorkFactory,
    query: AuditQuery,
    after: AuditPosition | None = None,
    limit: int = 100,
) -> list[RecordedAuditEvent]:
    async with unit_of_work() as uow:
        return await uow.audit.page(query, after, limit)


async def test_pages_are_newest_first_by_time_then_id_and_a_keyset_never_repeats(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    # Two events share an instant: the id breaks the tie.
    await _append(
        unit_of_work,
        _event(AuditAction.ENROLLMENT_STARTED, seconds=0),
        _event(AuditAction.CODE_REJECTED, seconds=5),
        _event(AuditAction.CODE_VERIFIED, seconds=5),
        _event(AuditAction.CODE_REPLAYED, seconds=9),
    )
    first = await _page(unit_of_work, AuditQuery(), limit=2)
    assert [r.event.action for r in first] == [
        AuditAction.CODE_REPLAYED,
        AuditAction.CODE_VERIFIED,
    ]
    await _append(unit_of_work, _event(AuditAction.CODE_REJECTED, seconds=20))  # arrives now
    last = first[-1]
    rest = await _page(unit_of_work, AuditQuery(), AuditPosition(last.event.occurred_at, last.id))
    assert [r.event.action for r in rest] == [
        AuditAction.CODE_REJECTED,
        AuditAction.ENROLLMENT_STARTED,
    ]
    stored = rest[0].event
    assert (stored.occurred_at, stored.context) == (NOW + timedelta(seconds=5), CONTEXT)


async def test_filters_by_user_action_actor_and_half_open_time_range(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    await _append(
        unit_of_work,
        _event(AuditAction.CODE_REJECTED, "alice", 0),
        _event(AuditAction.CODE_REJECTED, "bob", 1),
        _event(AuditAction.ADMIN_RESET, "alice", 2, actor="agent-1", reason="lost", ticket="T-1"),
        _event(AuditAction.CODE_VERIFIED, "alice", 3),
    )

    async def actions(query: AuditQuery) -> list[str]:
        return [r.event.action.value for r in await _page(unit_of_work, query)]

    assert await actions(AuditQuery(user_id="bob")) == ["code.rejected"]
    assert await actions(AuditQuery(action=AuditAction.CODE_REJECTED)) == ["code.rejected"] * 2
    assert await actions(AuditQuery(actor="agent-1")) == ["admin.factors_reset"]
    assert await actions(AuditQuery(actor="alice")) == ["code.verified", "code.rejected"]
    window = AuditQuery(since=NOW + timedelta(seconds=1), until=NOW + timedelta(seconds=3))
    assert await actions(window) == ["admin.factors_reset", "code.rejected"]
    [reset] = await _page(unit_of_work, AuditQuery(action=AuditAction.ADMIN_RESET))
    assert (reset.event.actor, reset.event.reason, reset.event.ticket) == ("agent-1", "lost", "T-1")


async def _everything_of_alice(unit_of_work: UnitOfWorkFactory) -> uuid.UUID:
    enrollment = authenticator("alice", NOW, confirmed_at_step=None)
    async with unit_of_work() as uow:
        await uow.enrollments.add(enrollment)
        await uow.recovery_codes.replace("alice", ["a" * 64, "b" * 64], NOW)
        throttle = await uow.throttles.lock("alice")
        throttle.reserve(NOW)
        await uow.throttles.save(throttle)
        await uow.outbox.add(Notification(NotificationKind.LOCKED_OUT, "alice", None, NOW))
        await uow.idempotency.reserve("alice", "key-1", "f" * 64, NOW, NOW + timedelta(hours=1))
        await uow.audit.append(_event(AuditAction.ENROLLMENT_STARTED))
        await uow.audit.append(_event(AuditAction.ADMIN_VIEWED_USER, "bob", actor="alice"))
        await uow.commit()
    async with unit_of_work() as uow:
        await uow.idempotency.complete("alice", "key-1", StoredOutcome("{}"), NOW)
        await uow.commit()
    return enrollment.id


async def test_a_user_is_known_by_enrollments_codes_or_throttle_and_read_without_a_lock(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    async with unit_of_work() as uow:
        assert not await uow.users.is_known("alice")
        assert await uow.users.throttle_of("alice") is None
    await _everything_of_alice(unit_of_work)
    async with unit_of_work() as uow:
        assert await uow.users.is_known("alice")
        throttle = await uow.users.throttle_of("alice")
        assert throttle is not None and throttle.failures == 1
        assert not await uow.users.is_known("bob")  # only in the audit trail


async def test_erasure_removes_everything_of_the_user_and_pseudonymises_the_trail(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    enrollment_id = await _everything_of_alice(unit_of_work)
    async with unit_of_work() as uow:
        report = await uow.users.erase("alice", PSEUDONYM)
        await uow.commit()

    assert (report.enrollments, report.recovery_codes, report.throttles) == (1, 2, 1)
    assert (report.notifications, report.idempotency_records) == (1, 1)
    assert report.audit_events_pseudonymised == 2
    async with unit_of_work() as uow:
        assert not await uow.users.is_known("alice")
        assert await uow.enrollments.get(enrollment_id) is None
        assert await uow.recovery_codes.remaining("alice") == (0, None)
        assert await uow.outbox.claim(NOW, NOW, 10) == []
        assert await uow.idempotency.reserve("alice", "key-1", "0" * 64, NOW, NOW) is None
    assert await _page(unit_of_work, AuditQuery(user_id="alice")) == []
    assert await _page(unit_of_work, AuditQuery(actor="alice")) == []
    [as_user] = await _page(unit_of_work, AuditQuery(user_id=PSEUDONYM))
    assert as_user.event.action is AuditAction.ENROLLMENT_STARTED
    by_pseudonym = await _page(unit_of_work, AuditQuery(actor=PSEUDONYM))  # as actor, or as user
    assert [(r.event.user_id, r.event.action) for r in by_pseudonym] == [
        ("bob", AuditAction.ADMIN_VIEWED_USER),
        (PSEUDONYM, AuditAction.ENROLLMENT_STARTED),
    ]


async def test_an_erasure_not_committed_changes_nothing(unit_of_work: UnitOfWorkFactory) -> None:
    enrollment_id = await _everything_of_alice(unit_of_work)
    async with unit_of_work() as uow:
        await uow.users.erase("alice", PSEUDONYM)
    async with unit_of_work() as uow:
        assert await uow.enrollments.get(enrollment_id) is not None
    assert len(await _page(unit_of_work, AuditQuery(user_id="alice"))) == 1


async def test_voiding_recovery_codes_counts_the_unused_ones(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    async with unit_of_work() as uow:
        await uow.recovery_codes.replace("alice", ["a" * 64, "b" * 64, "c" * 64], NOW)
        await uow.commit()
    async with unit_of_work() as uow:
        assert await uow.recovery_codes.consume("alice", "a" * 64, NOW)
        await uow.commit()
    async with unit_of_work() as uow:
        assert await uow.recovery_codes.discard("alice") == 2
        await uow.commit()
    async with unit_of_work() as uow:
        assert await uow.recovery_codes.remaining("alice") == (0, None)


async def test_counts_since_a_time_are_per_user_and_action_and_only_committed(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    await _append(
        unit_of_work,
        _event(AuditAction.CODE_VERIFIED, seconds=-1),
        _event(AuditAction.CODE_VERIFIED),
        _event(AuditAction.CODE_VERIFIED, seconds=5),
        _event(AuditAction.CODE_REJECTED, seconds=5),
        _event(AuditAction.CODE_VERIFIED, "bob", seconds=5),
    )
    async with unit_of_work() as uow:
        await uow.audit.append(_event(AuditAction.CODE_VERIFIED, seconds=6))

    async with unit_of_work() as uow:
        assert await uow.audit.count_since("alice", AuditAction.CODE_VERIFIED, NOW) == 2
        assert await uow.audit.count_since("alice", AuditAction.CODE_REJECTED, NOW) == 1
        assert await uow.audit.count_since("carol", AuditAction.CODE_VERIFIED, NOW) == 0
