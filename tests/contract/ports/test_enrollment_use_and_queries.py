"""The enrollment repository's conditional record of a used step (SECURITY.md V2) and its reads by
user, alike on every store: memory, SQLite and Postgres."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from application.errors import ConcurrentUpdate
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.enrollment import CodeMatch, Enrollment, EnrollmentStatus
from tests.contract.ports.stores import authenticator, store_all

NOW = datetime(2026, 11, 27, 12, 0, 0, 123000, tzinfo=UTC)
LATER = NOW + timedelta(minutes=1)


async def _get(unit_of_work: UnitOfWorkFactory, enrollment: Enrollment) -> Enrollment:
    async with unit_of_work() as uow:
        found = await uow.enrollments.get(enrollment.id)
    assert found is not None
    return found


async def _record_use(unit_of_work: UnitOfWorkFactory, copy: Enrollment, step: int) -> None:
    copy.record_use(CodeMatch(step=step, offset=1, replayed=False), LATER, 2)
    async with unit_of_work() as uow:
        await uow.enrollments.record_use(copy)
        await asyncio.sleep(0)
        await uow.commit()


async def test_a_later_step_is_recorded_with_its_time_and_drift(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    enrollment = authenticator("alice", NOW)
    await store_all(unit_of_work, enrollment)

    await _record_use(unit_of_work, await _get(unit_of_work, enrollment), 105)

    stored = await _get(unit_of_work, enrollment)
    assert (stored.last_used_step, stored.last_used_at, stored.drift_steps) == (105, LATER, 1)
    assert stored.version == enrollment.version + 1


async def test_a_step_not_after_the_stored_one_is_refused_even_from_an_older_copy(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    enrollment = authenticator("alice", NOW)
    await store_all(unit_of_work, enrollment)
    first, second, older, later = [await _get(unit_of_work, enrollment) for _ in range(4)]
    await _record_use(unit_of_work, first, 105)

    with pytest.raises(ConcurrentUpdate):
        await _record_use(unit_of_work, second, 105)
    with pytest.raises(ConcurrentUpdate):
        await _record_use(unit_of_work, older, 104)
    assert (await _get(unit_of_work, enrollment)).last_used_step == 105
    await _record_use(unit_of_work, later, 106)
    assert (await _get(unit_of_work, enrollment)).last_used_step == 106


async def test_a_revoked_authenticator_records_no_use(unit_of_work: UnitOfWorkFactory) -> None:
    enrollment = authenticator("alice", NOW)
    await store_all(unit_of_work, enrollment)
    copy = await _get(unit_of_work, enrollment)
    async with unit_of_work() as uow:
        revoked = await uow.enrollments.get(enrollment.id)
        assert revoked is not None
        revoked.revoke(NOW)
        await uow.enrollments.update(revoked)
        await uow.commit()

    with pytest.raises(ConcurrentUpdate):
        await _record_use(unit_of_work, copy, 105)
    assert (await _get(unit_of_work, enrollment)).last_used_step == 100


async def test_two_concurrent_uses_of_one_step_let_exactly_one_win(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    """Two replicas that accepted the same code at once: one records it, the other is refused,
    whether the store refuses at the update (a row lock, then the condition) or at commit."""
    enrollment = authenticator("alice", NOW)
    await store_all(unit_of_work, enrollment)
    copies = [await _get(unit_of_work, enrollment) for _ in range(2)]

    outcomes = await asyncio.gather(
        *(_record_use(unit_of_work, copy, 105) for copy in copies), return_exceptions=True
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == [
        "ConcurrentUpdate",
        "NoneType",
    ]
    stored = await _get(unit_of_work, enrollment)
    assert (stored.last_used_step, stored.version) == (105, enrollment.version + 1)


async def test_reads_by_user_give_each_status_oldest_first(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    newer = authenticator("alice", NOW + timedelta(seconds=2), device_name="newer")
    older = authenticator("alice", NOW, device_name="older")
    pending = authenticator("alice", NOW + timedelta(seconds=1), confirmed_at_step=None)
    revoked = authenticator("alice", NOW - timedelta(seconds=1))
    revoked.revoke(NOW)
    others = authenticator("bob", NOW - timedelta(seconds=5))
    await store_all(unit_of_work, newer, older, pending, revoked, others)

    async with unit_of_work() as uow:
        active = await uow.enrollments.active_for_user("alice")
        current = await uow.enrollments.current_for_user("alice")
        count = await uow.enrollments.count()
        nobody = await uow.enrollments.current_for_user("carol")

    assert [e.id for e in active] == [older.id, newer.id]
    assert [e.id for e in current] == [older.id, pending.id, newer.id]
    assert (count, nobody) == (5, [])


async def test_expired_pending_enrollments_are_removed_and_nothing_else(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    expired = authenticator("alice", NOW - timedelta(minutes=11), confirmed_at_step=None)
    live = authenticator("bob", NOW - timedelta(minutes=9), confirmed_at_step=None)
    active = authenticator("carol", NOW - timedelta(days=30))
    await store_all(unit_of_work, expired, live, active)

    async with unit_of_work() as uow:
        removed = await uow.enrollments.remove_expired_pending(NOW)
        await uow.commit()

    async with unit_of_work() as uow:
        left = await uow.enrollments.page(after=None, limit=10)
    assert removed == 1
    assert sorted(e.id for e in left) == sorted([live.id, active.id])
    assert {e.status for e in left} == {EnrollmentStatus.PENDING, EnrollmentStatus.ACTIVE}
