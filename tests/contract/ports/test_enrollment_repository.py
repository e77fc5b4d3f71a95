"""One suite for every unit of work / enrollment repository: memory, SQLite and Postgres."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from application.errors import ConcurrentUpdate
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.enrollment import Enrollment, EnrollmentStatus
from domain.mfa_method import MfaMethod
from domain.policy import HashAlgorithm, TotpPolicy
from tests.contract.ports.stores import store_all

NOW = datetime(2026, 11, 27, 12, 0, 0, 123000, tzinfo=UTC)


def _pending(user: str = "alice", **changes: object) -> Enrollment:
    enrollment = Enrollment.start(
        enrollment_id=uuid.uuid4(),
        user_id=user,
        method=MfaMethod.TOTP,
        policy=TotpPolicy(HashAlgorithm.SHA256, 8, 60),
        sealed_secret="local:v1:c2VhbGVk",
        device_name="Zoë's phone 📱",
        now=NOW,
        pending_ttl=timedelta(minutes=10),
    )
    for name, value in changes.items():
        setattr(enrollment, name, value)
    return enrollment


async def _get(factory: UnitOfWorkFactory, enrollment_id: uuid.UUID) -> Enrollment | None:
    async with factory() as uow:
        return await uow.enrollments.get(enrollment_id)


def _fields(enrollment: Enrollment) -> dict[str, object]:
    """What is stored: every field but the events not collected yet."""
    return {f.name: getattr(enrollment, f.name) for f in dataclasses.fields(Enrollment) if f.init}


async def test_round_trip_keeps_every_field(unit_of_work: UnitOfWorkFactory) -> None:
    enrollment = _pending(activated_at=NOW + timedelta(seconds=5))
    await store_all(unit_of_work, enrollment)
    loaded = await _get(unit_of_work, enrollment.id)
    assert loaded is not None
    assert _fields(loaded) == _fields(enrollment)
    assert loaded.created_at.tzinfo is not None


async def test_unknown_id_is_none(unit_of_work: UnitOfWorkFactory) -> None:
    assert await _get(unit_of_work, uuid.uuid4()) is None


async def test_pending_for_user_finds_only_that_users_pending(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    alice, bob = _pending("alice"), _pending("bob")
    active = _pending("alice", status=EnrollmentStatus.ACTIVE, activated_at=NOW)
    await store_all(unit_of_work, alice, bob, active)
    async with unit_of_work() as uow:
        found = await uow.enrollments.pending_for_user("alice")
        assert found is not None
        assert found.id == alice.id
        assert await uow.enrollments.pending_for_user("carol") is None


async def test_leaving_without_commit_rolls_back(unit_of_work: UnitOfWorkFactory) -> None:
    enrollment = _pending()
    with pytest.raises(RuntimeError):
        async with unit_of_work() as uow:
            await uow.enrollments.add(enrollment)
            raise RuntimeError("the use case failed")
    assert await _get(unit_of_work, enrollment.id) is None


async def test_second_pending_for_a_user_is_refused_and_nothing_is_written(
    unit_of_work: UnitOfWorkFactory,
) -> None:  # D2
    first, second, other = _pending(), _pending(), _pending("bob")
    await store_all(unit_of_work, first)
    with pytest.raises(ConcurrentUpdate):
        async with unit_of_work() as uow:
            await uow.enrollments.add(other)
            await uow.enrollments.add(second)
            await uow.commit()
    assert await _get(unit_of_work, second.id) is None
    assert await _get(unit_of_work, other.id) is None


async def test_one_pending_per_user_under_20_concurrent_starts(
    unit_of_work: UnitOfWorkFactory,
) -> None:  # D2
    async def start() -> bool:
        try:
            async with unit_of_work() as uow:
                earlier = await uow.enrollments.pending_for_user("alice")
                if earlier is not None:
                    await uow.enrollments.remove(earlier)
                await uow.enrollments.add(_pending())
                await uow.commit()
        except ConcurrentUpdate:
            return False
        return True

    outcomes = await asyncio.gather(*(start() for _ in range(20)))
    assert any(outcomes)
    async with unit_of_work() as uow:
        page = await uow.enrollments.page(after=None, limit=100)
    assert len([e for e in page if e.status is EnrollmentStatus.PENDING]) == 1


async def test_update_raises_the_version(unit_of_work: UnitOfWorkFactory) -> None:
    enrollment = _pending()
    await store_all(unit_of_work, enrollment)
    async with unit_of_work() as uow:
        loaded = await uow.enrollments.get(enrollment.id)
        assert loaded is not None
        loaded.rename("New phone", NOW)
        await uow.enrollments.update(loaded)
        await uow.commit()
    stored = await _get(unit_of_work, enrollment.id)
    assert stored is not None
    assert (stored.device_name, stored.version) == ("New phone", 2)


async def test_concurrent_changes_to_one_enrollment_keep_the_first(
    unit_of_work: UnitOfWorkFactory,
) -> None:  # D3
    enrollment = _pending()
    await store_all(unit_of_work, enrollment)
    first_copy = await _get(unit_of_work, enrollment.id)
    second_copy = await _get(unit_of_work, enrollment.id)
    assert first_copy is not None
    assert second_copy is not None

    async with unit_of_work() as uow:
        first_copy.rename("first", NOW)
        await uow.enrollments.update(first_copy)
        await uow.commit()
    with pytest.raises(ConcurrentUpdate):
        async with unit_of_work() as uow:
            second_copy.rename("second", NOW)
            await uow.enrollments.update(second_copy)
            await uow.commit()
    stored = await _get(unit_of_work, enrollment.id)
    assert stored is not None
    assert stored.device_name == "first"


async def test_concurrent_updates_in_parallel_let_exactly_one_win(
    unit_of_work: UnitOfWorkFactory,
) -> None:  # D3
    enrollment = _pending()
    await store_all(unit_of_work, enrollment)

    async def rename(name: str) -> bool:
        copy = await _get(unit_of_work, enrollment.id)
        assert copy is not None
        await asyncio.sleep(0)
        try:
            async with unit_of_work() as uow:
                copy.rename(name, NOW)
                await uow.enrollments.update(copy)
                await uow.commit()
        except ConcurrentUpdate:
            return False
        return True

    outcomes = await asyncio.gather(*(rename(f"name {i}") for i in range(10)))
    stored = await _get(unit_of_work, enrollment.id)
    assert stored is not None
    assert stored.version == 1 + outcomes.count(True)
    assert outcomes.count(True) >= 1


async def test_removing_a_changed_enrollment_is_refused(unit_of_work: UnitOfWorkFactory) -> None:
    enrollment = _pending()
    await store_all(unit_of_work, enrollment)
    stale = await _get(unit_of_work, enrollment.id)
    async with unit_of_work() as uow:
        fresh = await uow.enrollments.get(enrollment.id)
        assert fresh is not None
        fresh.rename("changed", NOW)
        await uow.enrollments.update(fresh)
        await uow.commit()
    assert stale is not None
    with pytest.raises(ConcurrentUpdate):
        async with unit_of_work() as uow:
            await uow.enrollments.remove(stale)
            await uow.commit()
    assert await _get(unit_of_work, enrollment.id) is not None


async def test_pages_walk_every_enrollment_once_in_id_order(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    stored = [_pending(f"user{i}") for i in range(7)]
    await store_all(unit_of_work, *stored)
    seen: list[uuid.UUID] = []
    cursor = None
    while True:
        async with unit_of_work() as uow:
            page = await uow.enrollments.page(after=cursor, limit=3)
        if not page:
            break
        seen.extend(e.id for e in page)
        cursor = page[-1].id
    assert seen == sorted(e.id for e in stored)
