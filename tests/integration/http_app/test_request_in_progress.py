"""A retry with the Idempotency-Key of a request still running is 409 request-in-progress (API.md
"Conventions"), on every adapter set: each keeps its own reservations. Here, not in the contract
suite, because the first request must be held inside the service while the second arrives, with
both served at once in the test's own event loop."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from litestar import Litestar

from adapters.local_cipher.cipher import LocalAesGcmCipher
from entrypoints.composition import Overrides
from tests.contract.http.api import ENROLLMENTS, assert_problem, bearer
from tests.support.in_process import serve_in_process
from tests.support.waiting import CEILING_SECONDS


class _HeldCipher:
    """Encrypts only once released, and says when a request is waiting on it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def encrypt(self, secret: Any, owner: Any) -> str:
        self.entered.set()
        await self.release.wait()
        return str(await self._inner.encrypt(secret, owner))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def test_the_same_key_while_the_first_request_runs_is_409(
    app_with: Callable[..., Litestar], overrides: Overrides, token_for: Callable[..., str]
) -> None:
    cipher = _HeldCipher(LocalAesGcmCipher({1: os.urandom(32)}))
    headers = bearer(token_for("alice"), **{"Idempotency-Key": "slow-key"})
    async with serve_in_process(app_with(replace(overrides, cipher=cipher))) as client:
        first = asyncio.create_task(
            client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=headers)
        )
        await asyncio.wait_for(cipher.entered.wait(), CEILING_SECONDS)
        second = await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=headers)
        cipher.release.set()
        finished = await asyncio.wait_for(first, CEILING_SECONDS)

    assert_problem(second, 409, "request-in-progress")
    assert finished.status_code == 200, finished.text
