"""One suite for every CheckReservations: over the units of work of memory, SQLite and Postgres,
and Postgres' own one statement. The throttle rules are AttemptThrottle's (domain/throttle.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.sqlalchemy.postgres_checks import PostgresCheckReservations
from application.errors import ThrottleBusy
from application.event_records import EventRecords
from application.ports.audit import AuditAction, RequestContext
from application.ports.check_reservations import CheckReservations, CheckStart
from application.ports.unit_of_work import UnitOfWorkFactory
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.check_reservations import TransactionalCheckReservations
from domain.enrollment import Enrollment
from domain.policy import TotpPolicy
from domain.throttle import AttemptThrottle
from tests.contract.ports.stores import STORES, authenticator, open_store, store_all

NOW = datetime(2026, 11, 27, 12, 0, 0, 123000, tzinfo=UTC)
USER = "alice"
CONTEXT = RequestContext("request-1", "192.0.2.7", "pytest")
SIX = frozenset({6})
RECORDS = EventRecords()


@dataclass(frozen=True, slots=True)
class Store:
    unit_of_work: UnitOfWorkFactory
    reservations: CheckReservations

    async def reserve(self, digits: frozenset[int] | None = SIX, now: datetime = NOW) -> CheckStart:
        return await self.reservations.reserve_check(USER, now, digits, CONTEXT)


@pytest.fixture(params=[*STORES, "postgres-one-statement"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    kind = "postgres" if request.param == "postgres-one-statement" else request.param
    async with open_store(kind, tmp_path, request) as opened:
        reservations: CheckReservations = (
            PostgresCheckReservations(opened.engine, RECORDS)
            if request.param == "postgres-one-statement" and opened.engine is not None
            else TransactionalCheckReservations(RecordingUnitsOfWork(opened.unit_of_work, RECORDS))
        )
        yield Store(opened.unit_of_work, reservations)


async def _authenticators(store: Store, *created: timedelta) -> list[Enrollment]:
    """Active authenticators of USER (six digits), created at NOW plus each offset."""
    stored = [authenticator(USER, NOW + offset) for offset in created]
    await store_all(store.unit_of_work, *stored)
    return stored


async def _throttle(store: Store) -> AttemptThrottle:
    async with store.unit_of_work() as uow:
        return await uow.throttles.lock(USER)


async def _set_throttle(store: Store, **fields: object) -> None:
    async with store.unit_of_work() as uow:
        throttle = await uow.throttles.lock(USER)
        for name, value in fields.items():
            setattr(throttle, name, value)
        await uow.throttles.save(throttle)
        await uow.commit()


async def _blocked_audits(store: Store) -> int:
    async with store.unit_of_work() as uow:
        return await uow.audit.count_since(USER, AuditAction.CHECK_BLOCKED, NOW - timedelta(days=1))


async def test_a_check_reads_the_authenticators_oldest_first_and_takes_an_attempt(
    store: Store,
) -> None:
    newer, older = await _authenticators(store, timedelta(seconds=5), timedelta(0))

    start = await store.reserve()

    assert start.reserved and start.retry_after is None
    assert [a.id for a in start.authenticators] == [older.id, newer.id]
    loaded = start.authenticators[0]
    assert (loaded.user_id, loaded.policy, loaded.last_used_step) == (USER, TotpPolicy(), 100)
    assert loaded.sealed_secret == older.sealed_secret
    throttle = await _throttle(store)
    assert (throttle.failures, throttle.version) == (1, 1)
    assert (await store.reserve(digits=None)).reserved  # a recovery code: any authenticator
    assert (await _throttle(store)).failures == 2


async def test_nothing_is_written_when_no_authenticator_fits(store: Store) -> None:
    assert await store.reserve() == CheckStart([], reserved=False, retry_after=None)
    await _authenticators(store, timedelta(0))

    start = await store.reserve(digits=frozenset({8}))
    assert (start.reserved, start.retry_after, len(start.authenticators)) == (False, None, 1)
    start = await store.reserve(digits=frozenset())
    assert (start.reserved, start.retry_after) == (False, None)

    throttle = await _throttle(store)
    assert (throttle.failures, throttle.version) == (0, 0)
    assert await _blocked_audits(store) == 0


async def test_a_quota_full_of_attempts_in_flight_refuses_and_is_audited(store: Store) -> None:
    await _authenticators(store, timedelta(0))
    for _ in range(5):
        assert (await store.reserve()).reserved

    start = await store.reserve()

    assert (start.reserved, start.retry_after) == (False, 1)
    assert len(start.authenticators) == 1
    assert (await _throttle(store)).failures == 5
    assert await _blocked_audits(store) == 1


async def test_a_running_block_refuses_with_the_time_left(store: Store) -> None:
    await _authenticators(store, timedelta(0))
    await _set_throttle(store, failures=5, lockouts=1, locked_until=NOW + timedelta(seconds=90.5))

    start = await store.reserve()

    assert (start.reserved, start.retry_after) == (False, 91)
    assert await _blocked_audits(store) == 1


async def test_a_block_that_is_over_starts_the_count_again(store: Store) -> None:
    await _authenticators(store, timedelta(0))
    await _set_throttle(store, failures=5, lockouts=1, locked_until=NOW)

    assert (await store.reserve()).reserved

    throttle = await _throttle(store)
    assert (throttle.failures, throttle.locked_until, throttle.lockouts) == (1, None, 1)


@pytest.mark.parametrize("store", ["memory", "postgres", "postgres-one-statement"], indirect=True)
async def test_a_throttle_another_check_holds_is_refused_at_once(store: Store) -> None:
    """SQLite has no row locks (see test_throttle_repository): a held throttle is a held
    database there, so this runs on the stores with row locks."""
    await _authenticators(store, timedelta(0))
    assert (await store.reserve()).reserved

    async with store.unit_of_work() as holder:
        await holder.throttles.lock(USER)
        with pytest.raises(ThrottleBusy):
            await store.reserve()

    assert (await _throttle(store)).failures == 1
    assert await _blocked_audits(store) == 0
