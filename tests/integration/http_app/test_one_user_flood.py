"""One user's flood of parallel guesses holds back no other user (issue 11, outside test).

A check that meets another check of the same user still reserving, in this process or another
replica, is refused at once with 429: the flood queues on no row lock and holds at most one pooled
connection per process, so that other users' checks are answered as if it were not there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar

from adapters.memory.clock import FrozenClock
from entrypoints.composition import Overrides
from tests.contract.http.api import bearer, confirm, enroll
from tests.integration.http_app.conftest import code_for
from tests.support.in_process import Client, serve_in_process

FLOOD = 200


async def _verify(client: Client, token: str, code: str) -> Any:
    return await client.post("/mfa/verify", json={"code": code}, headers=bearer(token))


async def _active(client: Client, token: str, clock: FrozenClock) -> dict[str, Any]:
    enrollment = await enroll(client, token)
    confirmed = await confirm(
        client, token, enrollment["enrollmentId"], code_for(enrollment, clock.now())
    )
    assert confirmed.status_code == 200, confirmed.text
    return enrollment


@pytest.mark.parametrize("adapter_set", ["production", "embedded", "memory"])
async def test_a_flood_of_one_users_guesses_is_refused_at_once_and_delays_no_one_else(
    app_with: Callable[..., Litestar],
    overrides: Overrides,
    token_for: Callable[..., str],
    clock: FrozenClock,
) -> None:
    app = app_with(overrides, db_pool_size=4, db_max_overflow=0)
    async with serve_in_process(app) as client:
        flooder = token_for("mallory")
        others = [token_for(f"customer-{n}") for n in range(3)]
        flooded = await _active(client, flooder, clock)
        theirs = [await _active(client, token, clock) for token in others]
        clock.advance(timedelta(seconds=30))
        wrong = f"{(int(code_for(flooded, clock.now())) + 1) % 1_000_000:06d}"

        answers = await asyncio.gather(
            *(_verify(client, flooder, wrong) for _ in range(FLOOD)),
            *(
                _verify(client, token, code_for(enrollment, clock.now()))
                for token, enrollment in zip(others, theirs, strict=True)
            ),
        )

    flood = [answer.status_code for answer in answers[:FLOOD]]
    assert set(flood) <= {400, 429}, f"never a 503 or a wait on a lock: {sorted(set(flood))}"
    assert 1 <= flood.count(400) <= 5, flood
    assert all(
        answer.headers.get("retry-after") for answer in answers[:FLOOD] if answer.status_code == 429
    )
    assert [answer.status_code for answer in answers[FLOOD:]] == [200] * len(others), [
        answer.text for answer in answers[FLOOD:]
    ]
