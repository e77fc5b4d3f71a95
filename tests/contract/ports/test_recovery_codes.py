"""The recovery-code repository on every store (memory, SQLite, Postgres): only hashes, one set per
user, each code used once, even by two requests at the same moment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from application.errors import ConcurrentUpdate
from application.ports.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 11, 27, 12, 0, 0, 123000, tzinfo=UTC)
FIRST_SET = ["a" * 64, "b" * 64, "c" * 64]
SECOND_SET = ["d" * 64, "e" * 64]


async def _replace(unit_of_work: UnitOfWorkFactory, hashes: list[str], at: datetime) -> None:
    async with unit_of_work() as uow:
        await uow.recovery_codes.replace("alice", hashes, at)
        await uow.commit()


async def _consume(unit_of_work: UnitOfWorkFactory, code_hash: str) -> bool:
    async with unit_of_work() as uow:
        used = await uow.recovery_codes.consume("alice", code_hash, NOW)
        await asyncio.sleep(0)
        await uow.commit()
    return used


async def _remaining(unit_of_work: UnitOfWorkFactory) -> tuple[int, datetime | None]:
    async with unit_of_work() as uow:
        return await uow.recovery_codes.remaining("alice")


async def test_a_user_without_codes_has_none_and_no_date(unit_of_work: UnitOfWorkFactory) -> None:
    assert await _remaining(unit_of_work) == (0, None)
    assert not await _consume(unit_of_work, FIRST_SET[0])


async def test_each_code_is_used_once_and_a_wrong_one_never(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    await _replace(unit_of_work, FIRST_SET, NOW)

    assert await _consume(unit_of_work, FIRST_SET[1])
    assert not await _consume(unit_of_work, FIRST_SET[1])
    assert not await _consume(unit_of_work, "f" * 64)
    assert await _remaining(unit_of_work) == (2, NOW)


async def test_a_use_not_committed_leaves_the_code_usable(unit_of_work: UnitOfWorkFactory) -> None:
    await _replace(unit_of_work, FIRST_SET, NOW)
    async with unit_of_work() as uow:
        assert await uow.recovery_codes.consume("alice", FIRST_SET[0], NOW)

    assert await _consume(unit_of_work, FIRST_SET[0])


async def test_a_new_set_replaces_the_old_one_whole(unit_of_work: UnitOfWorkFactory) -> None:
    await _replace(unit_of_work, FIRST_SET, NOW)
    assert await _consume(unit_of_work, FIRST_SET[0])
    regenerated = NOW + timedelta(days=1)

    await _replace(unit_of_work, SECOND_SET, regenerated)

    assert not await _consume(unit_of_work, FIRST_SET[1])
    assert await _remaining(unit_of_work) == (2, regenerated)
    assert await _consume(unit_of_work, SECOND_SET[0])


async def test_discarding_voids_every_code_and_counts_the_unused(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    await _replace(unit_of_work, FIRST_SET, NOW)
    assert await _consume(unit_of_work, FIRST_SET[0])

    async with unit_of_work() as uow:
        assert await uow.recovery_codes.discard("alice") == 2
        await uow.commit()

    assert await _remaining(unit_of_work) == (0, None)
    assert not await _consume(unit_of_work, FIRST_SET[1])


async def test_two_concurrent_uses_of_one_code_let_exactly_one_win(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    """The loser sees the code used (a conditional update after the winner's row lock) or is
    refused at commit; either way one use counts."""
    await _replace(unit_of_work, FIRST_SET, NOW)

    outcomes = await asyncio.gather(
        *(_consume(unit_of_work, FIRST_SET[0]) for _ in range(2)), return_exceptions=True
    )

    winners = [outcome for outcome in outcomes if outcome is True]
    losers = [o for o in outcomes if o is False or isinstance(o, ConcurrentUpdate)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    assert await _remaining(unit_of_work) == (2, NOW)
