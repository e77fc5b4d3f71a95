"""The idempotency store on every store (memory, SQLite, Postgres): one request claims a key, a
retry finds its record, an expired record is claimed again, and of two concurrent claims one wins."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from application.ports.idempotency import IdempotencyRecord, StoredOutcome
from application.ports.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 11, 27, 12, 0, 0, 123000, tzinfo=UTC)
LEASE = NOW + timedelta(seconds=30)
KEPT_UNTIL = NOW + timedelta(hours=24)
OUTCOME = StoredOutcome('{"status": "active"}', "0b6f0000-0000-4000-8000-000000000000")


async def _reserve(
    unit_of_work: UnitOfWorkFactory,
    fingerprint: str = "POST /settings/MfaSecret 1",
    now: datetime = NOW,
    user: str = "alice",
) -> IdempotencyRecord | None:
    async with unit_of_work() as uow:
        found = await uow.idempotency.reserve(user, "key-1", fingerprint, now, now + (LEASE - NOW))
        await asyncio.sleep(0)
        await uow.commit()
    return found


async def _complete(unit_of_work: UnitOfWorkFactory) -> None:
    async with unit_of_work() as uow:
        await uow.idempotency.complete("alice", "key-1", OUTCOME, KEPT_UNTIL)
        await uow.commit()


async def test_the_first_request_claims_the_key_and_a_retry_sees_it_running(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    assert await _reserve(unit_of_work) is None

    assert await _reserve(unit_of_work, "another fingerprint") == IdempotencyRecord(
        "POST /settings/MfaSecret 1", None, LEASE
    )
    assert await _reserve(unit_of_work, user="bob") is None


async def test_a_completed_request_gives_its_outcome_to_a_retry(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    await _reserve(unit_of_work)
    await _complete(unit_of_work)

    assert await _reserve(unit_of_work, now=NOW + timedelta(hours=1)) == IdempotencyRecord(
        "POST /settings/MfaSecret 1", OUTCOME, KEPT_UNTIL
    )


async def test_an_expired_record_is_claimed_again(unit_of_work: UnitOfWorkFactory) -> None:
    await _reserve(unit_of_work)
    await _complete(unit_of_work)
    after_expiry = KEPT_UNTIL + timedelta(seconds=1)

    assert await _reserve(unit_of_work, "new fingerprint", now=after_expiry) is None
    assert await _reserve(unit_of_work, now=after_expiry) == IdempotencyRecord(
        "new fingerprint", None, after_expiry + (LEASE - NOW)
    )


async def test_release_forgets_a_running_request_but_never_an_answer(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    await _reserve(unit_of_work)
    async with unit_of_work() as uow:
        await uow.idempotency.release("alice", "key-1")
        await uow.commit()
    assert await _reserve(unit_of_work) is None

    await _complete(unit_of_work)
    async with unit_of_work() as uow:
        await uow.idempotency.release("alice", "key-1")
        await uow.commit()
    found = await _reserve(unit_of_work)
    assert found is not None
    assert found.outcome == OUTCOME


async def test_remove_expired_deletes_only_what_is_past_its_expiry(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    await _reserve(unit_of_work)
    await _reserve(unit_of_work, user="bob")
    await _complete(unit_of_work)

    async with unit_of_work() as uow:
        removed = await uow.idempotency.remove_expired(LEASE + timedelta(seconds=1))
        await uow.commit()

    assert removed == 1
    assert await _reserve(unit_of_work, "bob's retry", user="bob") is None
    found = await _reserve(unit_of_work)
    assert found is not None
    assert found.outcome == OUTCOME


async def test_of_concurrent_claims_of_one_key_exactly_one_wins(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    outcomes = await asyncio.gather(*(_reserve(unit_of_work, f"request {i}") for i in range(5)))

    winners = [i for i, outcome in enumerate(outcomes) if outcome is None]
    assert len(winners) == 1, outcomes
    assert {outcome.fingerprint for outcome in outcomes if outcome is not None} == {
        f"request {winners[0]}"
    }
