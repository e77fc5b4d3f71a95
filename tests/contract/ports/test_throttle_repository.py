"""The throttle port, on every adapter: one row per user, saved by version, and a lock that a
check can decline to wait for."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from application.errors import ConcurrentUpdate, ThrottleBusy
from application.ports.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


async def test_a_new_users_throttle_is_fresh_and_saved_once(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    async with unit_of_work() as uow:
        throttle = await uow.throttles.lock("alice", wait=False)
        assert (throttle.failures, throttle.version) == (0, 0)
        throttle.reserve(NOW)
        await uow.throttles.save(throttle)
        await uow.commit()

    async with unit_of_work() as uow:
        stored = await uow.throttles.lock("alice")

    assert (stored.failures, stored.version) == (1, 1)


async def test_a_save_from_a_stale_read_is_refused(unit_of_work: UnitOfWorkFactory) -> None:
    async with unit_of_work() as uow:
        await uow.throttles.save(await uow.throttles.lock("alice"))
        await uow.commit()
    async with unit_of_work() as uow:
        stale = await uow.throttles.lock("alice")
    async with unit_of_work() as uow:
        await uow.throttles.save(await uow.throttles.lock("alice"))
        await uow.commit()

    with pytest.raises(ConcurrentUpdate):
        async with unit_of_work() as uow:
            await uow.throttles.save(stale)
            await uow.commit()


async def test_concurrent_reservations_of_one_user_are_counted_one_after_another(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    """A lock that waits serialises them: none is lost and none is refused."""

    async def reserve() -> None:
        async with unit_of_work() as uow:
            throttle = await uow.throttles.lock("alice")
            await asyncio.sleep(0)
            throttle.reserve(NOW)
            await uow.throttles.save(throttle)
            await uow.commit()

    await asyncio.gather(*(reserve() for _ in range(4)))

    async with unit_of_work() as uow:
        stored = await uow.throttles.lock("alice")
    assert (stored.failures, stored.version) == (4, 4)


@pytest.mark.parametrize("unit_of_work", ["memory", "postgres"], indirect=True)
async def test_a_held_throttle_is_refused_at_once_to_a_lock_that_will_not_wait(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    """SQLite has no row locks: its transactions hold the whole database's write lock, so a second
    unit of work cannot begin while the first holds the throttle."""
    async with unit_of_work() as first:
        await first.throttles.save(await first.throttles.lock("alice"))
        await first.commit()

    async with unit_of_work() as holder:
        await holder.throttles.lock("alice")
        async with unit_of_work() as other:
            with pytest.raises(ThrottleBusy):
                await other.throttles.lock("alice", wait=False)
        async with unit_of_work() as someone_else:
            await someone_else.throttles.lock("bob", wait=False)

    async with unit_of_work() as after:
        await after.throttles.lock("alice", wait=False)
