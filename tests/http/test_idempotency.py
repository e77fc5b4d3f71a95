"""Idempotency-Key on POSTs (API.md "Conventions")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar

from adapters.memory.clock import FrozenClock
from tests.http.conftest import START
from tests.http.flows import Client, bearer, code_for, confirm, enroll
from tests.support.in_process import serve_in_process

PATH = "/settings/MfaSecret"


@pytest.fixture
def token(token_for: Callable[..., str]) -> str:
    return token_for("alice", auth_time=int(START.timestamp()), amr=["otp"])


def _with_key(token: str, key: str) -> dict[str, str]:
    return {**bearer(token), "Idempotency-Key": key}


async def test_retry_with_the_same_key_returns_the_same_enrollment_and_secret(
    client: Client, token: str
) -> None:
    body = {"mfaMethod": "totp", "deviceName": "Phone"}
    first = await client.post(PATH, json=body, headers=_with_key(token, "key-0001"))
    again = await client.post(PATH, json=body, headers=_with_key(token, "key-0001"))
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    listed = (await client.get(PATH, headers=bearer(token))).json()
    assert len(listed) == 1


async def test_another_key_starts_another_enrollment(client: Client, token: str) -> None:
    first = await client.post(PATH, json={"mfaMethod": "totp"}, headers=_with_key(token, "key-a"))
    second = await client.post(PATH, json={"mfaMethod": "totp"}, headers=_with_key(token, "key-b"))
    assert first.json()["secret"] != second.json()["secret"]


async def test_same_key_with_another_body_is_422(client: Client, token: str) -> None:
    await client.post(PATH, json={"mfaMethod": "totp"}, headers=_with_key(token, "key-0002"))
    other = await client.post(
        PATH, json={"mfaMethod": "totp", "qrFormat": "png"}, headers=_with_key(token, "key-0002")
    )
    assert other.status_code == 422
    assert other.json()["type"].endswith(":idempotency-key-reused")


async def test_keys_are_per_user(client: Client, token: str, token_for: Callable[..., str]) -> None:
    mine = await client.post(PATH, json={"mfaMethod": "totp"}, headers=_with_key(token, "shared"))
    theirs = await client.post(
        PATH, json={"mfaMethod": "totp"}, headers=_with_key(token_for("bob"), "shared")
    )
    assert theirs.status_code == 200
    assert theirs.json()["enrollmentId"] != mine.json()["enrollmentId"]


async def test_same_key_while_the_first_request_runs_is_409(
    app_with: Callable[..., Litestar], overrides: Any, token: str
) -> None:
    from dataclasses import replace

    release = asyncio.Event()

    class SlowCipher:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        async def encrypt(self, secret: Any, owner: Any) -> str:
            await release.wait()
            return str(await self._inner.encrypt(secret, owner))

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    import os

    from adapters.local_cipher.cipher import LocalAesGcmCipher

    cipher = SlowCipher(LocalAesGcmCipher({1: os.urandom(32)}))
    app = app_with(replace(overrides, cipher=cipher))
    async with serve_in_process(app) as client:
        first = asyncio.create_task(
            client.post(PATH, json={"mfaMethod": "totp"}, headers=_with_key(token, "slow-key"))
        )
        await asyncio.sleep(0.2)
        second = await client.post(
            PATH, json={"mfaMethod": "totp"}, headers=_with_key(token, "slow-key")
        )
        release.set()
        assert second.status_code == 409
        assert second.json()["type"].endswith(":request-in-progress")
        assert (await first).status_code == 200


async def test_a_request_that_failed_frees_its_key_for_the_retry(
    app_with: Callable[..., Litestar], overrides: Any, client: Client, token: str
) -> None:
    from dataclasses import replace

    from tests.support.doubles import UnavailableCipher

    body = {"mfaMethod": "totp"}
    async with serve_in_process(app_with(replace(overrides, cipher=UnavailableCipher()))) as down:
        failed = await down.post(PATH, json=body, headers=_with_key(token, "key-0003"))
        assert failed.status_code == 503
    retried = await client.post(PATH, json=body, headers=_with_key(token, "key-0003"))
    assert retried.status_code == 200


async def test_confirmation_retry_returns_the_activation_without_recovery_codes(
    client: Client, token: str
) -> None:
    enrollment = await enroll(client, token)
    path = f"{PATH}/{enrollment['enrollmentId']}/verification"
    body = {"code": code_for(enrollment, START)}
    first = await client.post(path, json=body, headers=_with_key(token, "confirm-1"))
    again = await client.post(path, json=body, headers=_with_key(token, "confirm-1"))
    assert first.status_code == again.status_code == 200
    assert len(first.json()["recoveryCodes"]) == 10
    assert again.json() == {k: v for k, v in first.json().items() if k != "recoveryCodes"}


async def test_a_verify_retry_gets_no_stored_success_and_is_not_taken_for_a_guess(
    client: Client, token: str, clock: FrozenClock
) -> None:
    enrollment = await enroll(client, token)
    await confirm(client, token, enrollment, code_for(enrollment, START))
    clock.advance(timedelta(seconds=30))
    body = {"code": code_for(enrollment, clock.now())}
    first = await client.post("/mfa/verify", json=body, headers=_with_key(token, "verify-1"))
    again = await client.post("/mfa/verify", json=body, headers=_with_key(token, "verify-1"))
    plain_retry = await client.post("/mfa/verify", json=body, headers=bearer(token))
    assert first.status_code == 200
    assert again.status_code == 409
    assert again.json()["type"].endswith(":answer-shown-once")
    assert plain_retry.status_code == 400
    assert plain_retry.json()["attemptsRemaining"] == 4, "the keyed retry counted nothing"


async def test_recovery_codes_are_never_shown_twice(client: Client, token: str) -> None:
    enrollment = await enroll(client, token)
    await confirm(client, token, enrollment, code_for(enrollment, START))
    headers = _with_key(token, "codes-1")
    first = await client.post(f"{PATH}/recovery-codes", headers=headers)
    again = await client.post(f"{PATH}/recovery-codes", headers=headers)
    assert first.status_code == 200
    assert again.status_code == 409
    assert again.json()["type"].endswith(":answer-shown-once")


@pytest.mark.parametrize("key", ["", "x" * 256, "bad key", "tab\tkey"])
async def test_malformed_keys_are_400(client: Client, token: str, key: str) -> None:
    response = await client.post(
        PATH, json={"mfaMethod": "totp"}, headers={**bearer(token), "Idempotency-Key": key}
    )
    assert response.status_code == 400
