"""One suite for every EnrollmentStarts: over the units of work of memory, SQLite and Postgres, and
Postgres' own statements in one transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.operational_metrics import MemoryOperationalMetrics
from adapters.sqlalchemy.postgres_enrollment_starts import PostgresEnrollmentStarts
from application.enrollment_limits import EnrollmentLimits
from application.errors import DependencyUnavailable, EnrollmentRateLimited, TooManyAuthenticators
from application.event_records import EventRecords
from application.ports.audit import AuditAction, AuditEvent, AuditQuery, RequestContext
from application.ports.enrollment_starts import EnrollmentStarts
from application.ports.operational_metrics import BusinessEvent
from application.ports.unit_of_work import UnitOfWorkFactory
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.enrollment_starts import TransactionalEnrollmentStarts
from domain.enrollment import Enrollment, EnrollmentStatus
from tests.contract.ports.stores import STORES, authenticator, open_store, store_all
from tests.support.waiting import eventually_found

NOW = datetime(2026, 11, 30, 12, 0, 0, 123000, tzinfo=UTC)
USER = "alice"
CONTEXT = RequestContext("request-1", "192.0.2.7", "pytest")
LIMITS = EnrollmentLimits(max_active=2, max_starts_per_hour=3)


@dataclass(frozen=True, slots=True)
class Store:
    unit_of_work: UnitOfWorkFactory
    starts: EnrollmentStarts
    metrics: MemoryOperationalMetrics
    engine: AsyncEngine | None

    async def start(self, now: datetime = NOW) -> Enrollment:
        enrollment = authenticator(USER, now, confirmed_at_step=None)
        await self.starts.store(enrollment, LIMITS, CONTEXT)
        return enrollment

    async def audited(self) -> list[tuple[AuditAction, uuid.UUID | None]]:
        """USER's audit rows, oldest first."""
        async with self.unit_of_work() as uow:
            rows = await uow.audit.page(AuditQuery(user_id=USER), None, 100)
        return [(row.event.action, row.event.enrollment_id) for row in reversed(rows)]

    async def enrollments(self) -> dict[uuid.UUID, EnrollmentStatus]:
        async with self.unit_of_work() as uow:
            return {e.id: e.status for e in await uow.enrollments.current_for_user(USER)}


@pytest.fixture(params=[*STORES, "postgres-one-transaction"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    kind = "postgres" if request.param == "postgres-one-transaction" else request.param
    metrics = MemoryOperationalMetrics()
    records = EventRecords(metrics)
    async with open_store(kind, tmp_path, request) as opened:
        starts: EnrollmentStarts = (
            PostgresEnrollmentStarts(opened.engine, records)
            if request.param == "postgres-one-transaction" and opened.engine is not None
            else TransactionalEnrollmentStarts(RecordingUnitsOfWork(opened.unit_of_work, records))
        )
        yield Store(opened.unit_of_work, starts, metrics, opened.engine)


async def _started_before(store: Store, *ago: timedelta) -> None:
    """Audits a start of USER at NOW minus each of ``ago``."""
    async with store.unit_of_work() as uow:
        for offset in ago:
            await uow.audit.append(
                AuditEvent(AuditAction.ENROLLMENT_STARTED, USER, None, NOW - offset, CONTEXT)
            )
        await uow.commit()


async def test_room_is_the_active_authenticators_oldest_first(store: Store) -> None:
    newer = authenticator(USER, NOW - timedelta(minutes=1))
    older = authenticator(USER, NOW - timedelta(minutes=2))
    pending = authenticator(USER, NOW, confirmed_at_step=None)
    await store_all(store.unit_of_work, newer, older, pending, authenticator("bob", NOW))

    active = await store.starts.room(USER, NOW, EnrollmentLimits(3, 3))

    assert [a.id for a in active] == [older.id, newer.id]
    assert active[0].sealed_secret == older.sealed_secret


async def test_room_without_authenticators_is_empty(store: Store) -> None:
    assert await store.starts.room(USER, NOW, LIMITS) == []
    assert await store.audited() == []


async def test_room_counts_the_starts_of_the_last_hour_only(store: Store) -> None:
    await _started_before(store, timedelta(hours=1, microseconds=1), timedelta(minutes=59))
    await _started_before(store, timedelta(minutes=1))

    assert await store.starts.room(USER, NOW, LIMITS) == []

    await _started_before(store, timedelta(hours=1))
    with pytest.raises(EnrollmentRateLimited) as refused:
        await store.starts.room(USER, NOW, LIMITS)
    assert refused.value.retry_after == 3600


async def test_room_refuses_a_user_who_holds_the_most_authenticators(store: Store) -> None:
    await store_all(store.unit_of_work, authenticator(USER, NOW), authenticator(USER, NOW))

    with pytest.raises(TooManyAuthenticators):
        await store.starts.room(USER, NOW, LIMITS)


async def test_the_hourly_limit_is_checked_before_the_authenticators(store: Store) -> None:
    await store_all(store.unit_of_work, authenticator(USER, NOW), authenticator(USER, NOW))
    await _started_before(store, *(timedelta(minutes=m) for m in (1, 2, 3)))

    with pytest.raises(EnrollmentRateLimited):
        await store.starts.room(USER, NOW, LIMITS)
    with pytest.raises(EnrollmentRateLimited):
        await store.start()


async def test_a_start_is_stored_pending_audited_and_counted(store: Store) -> None:
    started = await store.start()

    async with store.unit_of_work() as uow:
        stored = await uow.enrollments.pending_for_user(USER)
        [row] = await uow.audit.page(AuditQuery(user_id=USER), None, 10)
    assert stored is not None
    assert (stored.id, stored.status, stored.version) == (started.id, EnrollmentStatus.PENDING, 1)
    assert (stored.created_at, stored.expires_at) == (NOW, NOW + timedelta(minutes=10))
    assert (stored.sealed_secret, stored.device_name) == (started.sealed_secret, "phone")
    assert row.event == AuditEvent(AuditAction.ENROLLMENT_STARTED, USER, started.id, NOW, CONTEXT)
    assert store.metrics.counts == {BusinessEvent.ENROLLMENT_STARTED: 1}
    assert started.collect_events() == []


async def test_a_start_replaces_the_pending_enrollment_and_audits_it_first(store: Store) -> None:
    first = await store.start(NOW - timedelta(minutes=5))
    active = authenticator(USER, NOW - timedelta(minutes=10))
    await store_all(store.unit_of_work, active)

    second = await store.start()

    assert await store.enrollments() == {
        active.id: EnrollmentStatus.ACTIVE,
        second.id: EnrollmentStatus.PENDING,
    }
    assert (await store.audited())[-3:] == [
        (AuditAction.ENROLLMENT_STARTED, first.id),
        (AuditAction.ENROLLMENT_REPLACED, first.id),
        (AuditAction.ENROLLMENT_STARTED, second.id),
    ]
    assert store.metrics.counts == {
        BusinessEvent.ENROLLMENT_STARTED: 2,
        BusinessEvent.ENROLLMENT_REPLACED: 1,
    }


async def test_a_start_past_a_limit_writes_and_counts_nothing(store: Store) -> None:
    pending = await store.start(NOW - timedelta(minutes=5))
    await _started_before(store, timedelta(minutes=1), timedelta(minutes=2))
    audited = await store.audited()

    with pytest.raises(EnrollmentRateLimited):
        await store.start()

    assert await store.enrollments() == {pending.id: EnrollmentStatus.PENDING}
    assert await store.audited() == audited
    assert store.metrics.counts == {BusinessEvent.ENROLLMENT_STARTED: 1}


async def test_a_start_is_refused_when_the_authenticators_filled_up_meanwhile(
    store: Store,
) -> None:
    assert await store.starts.room(USER, NOW, LIMITS) == []
    await store_all(store.unit_of_work, authenticator(USER, NOW), authenticator(USER, NOW))

    with pytest.raises(TooManyAuthenticators):
        await store.start()

    assert EnrollmentStatus.PENDING not in (await store.enrollments()).values()


async def test_of_two_starts_at_once_at_the_hourly_limit_exactly_one_passes(store: Store) -> None:
    """Both found room before; the store checks again under the user's lock."""
    await _started_before(store, timedelta(minutes=1), timedelta(minutes=2))
    rooms = [store.starts.room(USER, NOW, LIMITS) for _ in range(2)]
    assert await asyncio.gather(*rooms) == [[], []]  # and a database store has two connections

    outcomes = await asyncio.gather(store.start(), store.start(), return_exceptions=True)

    [passed] = [o for o in outcomes if isinstance(o, Enrollment)]
    assert [type(o) for o in outcomes if not isinstance(o, Enrollment)] == [EnrollmentRateLimited]
    assert await store.enrollments() == {passed.id: EnrollmentStatus.PENDING}
    assert [a for a in await store.audited() if a[1] is not None] == [
        (AuditAction.ENROLLMENT_STARTED, passed.id)
    ]


@pytest.mark.parametrize("store", ["postgres", "postgres-one-transaction"], indirect=True)
async def test_starts_that_waited_for_the_lock_count_the_start_that_held_it(store: Store) -> None:
    """The count is taken once the lock is held, not from before it (a statement's snapshot): the
    two starts both wait for the lock, so each counts after the one before it committed."""
    assert store.engine is not None
    await _started_before(store, timedelta(minutes=1), timedelta(minutes=2))
    async with store.unit_of_work() as holder:
        await holder.enrollments.lock_user(USER)
        starts = asyncio.gather(store.start(), store.start(), return_exceptions=True)
        await eventually_found(
            lambda: _waiting_for_a_lock(store.engine, 2), "both starts waiting for the lock"
        )
        await holder.commit()
    outcomes = await starts

    assert sorted(type(o).__name__ for o in outcomes) == ["Enrollment", "EnrollmentRateLimited"]


async def _waiting_for_a_lock(engine: AsyncEngine | None, sessions: int) -> bool:
    assert engine is not None
    waiting = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    async with engine.connect() as connection:
        return int((await connection.execute(waiting)).scalar_one()) >= sessions


@pytest.mark.parametrize("store", ["postgres", "postgres-one-transaction"], indirect=True)
async def test_a_user_lock_held_past_the_lock_timeout_is_a_503_and_writes_nothing(
    store: Store,
) -> None:
    """The memory store's lock waits as long as its holder; SQLite's is the database's write lock,
    held by one transaction at a time: the databases with a lock timeout run this."""
    async with store.unit_of_work() as holder:
        await holder.enrollments.lock_user(USER)
        with pytest.raises(DependencyUnavailable):
            await store.start()

    assert await store.enrollments() == {}
    assert await store.audited() == []
    assert store.metrics.counts == {}
