"""POST /mfa/verify and recovery codes (API.md "Using the authenticator"; SECURITY.md V1-V7)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar

from adapters.memory.clock import FrozenClock
from entrypoints.composition import Overrides
from tests.http.conftest import START
from tests.http.flows import Client, bearer, code_for, confirm, enroll, verify
from tests.support.doubles import UnavailableCipher
from tests.support.in_process import serve_in_process


@pytest.fixture
def token(token_for: Callable[..., str]) -> str:
    return token_for("alice")


async def _active(client: Client, token: str, **fields: object) -> tuple[dict[str, Any], list[str]]:
    enrollment = await enroll(client, token, **fields)
    response = await confirm(client, token, enrollment, code_for(enrollment, START))
    assert response.status_code == 200, response.text
    return enrollment, response.json().get("recoveryCodes", [])


def _wrong(enrollment: dict[str, Any], clock: FrozenClock) -> str:
    taken = {code_for(enrollment, clock.now(), s) for s in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in taken)


async def test_next_code_verifies(client: Client, token: str, clock: FrozenClock) -> None:
    enrollment, _ = await _active(client, token)
    clock.advance(timedelta(seconds=30))
    response = await verify(client, token, code=code_for(enrollment, clock.now()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "verified": True,
        "method": "totp",
        "enrollmentId": enrollment["enrollmentId"],
        "verifiedAt": "2026-11-27T12:00:30Z",
        "recoveryCodesRemaining": 10,
    }


async def test_same_code_twice_is_rejected(
    client: Client, token: str, clock: FrozenClock
) -> None:  # V2
    enrollment, _ = await _active(client, token)
    clock.advance(timedelta(seconds=30))
    code = code_for(enrollment, clock.now())
    assert (await verify(client, token, code=code)).status_code == 200
    assert (await verify(client, token, code=code)).status_code == 400


async def test_older_step_after_a_newer_one_is_rejected(
    client: Client, token: str, clock: FrozenClock
) -> None:  # V2
    enrollment, _ = await _active(client, token)
    clock.advance(timedelta(seconds=60))
    newer = code_for(enrollment, clock.now(), 1)
    older = code_for(enrollment, clock.now(), -1)
    assert (await verify(client, token, code=newer)).status_code == 200
    assert (await verify(client, token, code=older)).status_code == 400


async def test_concurrent_uses_of_one_code_accept_it_once(
    client: Client, token: str, clock: FrozenClock
) -> None:  # V2
    enrollment, _ = await _active(client, token)
    clock.advance(timedelta(seconds=30))
    code = code_for(enrollment, clock.now())
    responses = await asyncio.gather(*(verify(client, token, code=code) for _ in range(10)))
    assert [r.status_code for r in responses].count(200) == 1


async def test_user_without_active_authenticator_gets_404(client: Client, token: str) -> None:
    await enroll(client, token)
    response = await verify(client, token, code="123456")
    assert response.status_code == 404
    assert response.json()["type"].endswith(":no-active-authenticator")


async def test_checks_that_cannot_be_made_take_no_attempt(
    client: Client, token: str, clock: FrozenClock
) -> None:  # V5: the quota counts guesses, not requests that were never checked
    for _ in range(6):
        assert (await verify(client, token, code="123456")).status_code == 404
    enrollment, _ = await _active(client, token)
    for malformed in ("12345", "12a456", "1234567890", "ABCD-EFGH-JKLM-NPQ!"):
        body = {"recoveryCode": malformed} if "-" in malformed else {"code": malformed}
        assert (await verify(client, token, **body)).status_code == 400
    clock.advance(timedelta(seconds=30))
    wrong = await verify(client, token, code=_wrong(enrollment, clock))
    assert wrong.json()["attemptsRemaining"] == 4


@pytest.mark.parametrize(
    "body",
    [{}, {"code": "123456", "recoveryCode": "AAAA-BBBB-CCCC-DDDD"}, {"code": 123456}, {"otp": "1"}],
)
async def test_body_must_hold_exactly_one_string_code(
    client: Client, token: str, body: dict[str, object]
) -> None:
    await _active(client, token)
    assert (await verify(client, token, **body)).status_code == 400


async def test_five_wrong_codes_lock_and_then_the_right_code_is_429(
    client: Client, token: str, clock: FrozenClock
) -> None:  # V5
    enrollment, _ = await _active(client, token)
    clock.advance(timedelta(seconds=30))
    for _ in range(5):
        assert (await verify(client, token, code=_wrong(enrollment, clock))).status_code == 400
    response = await verify(client, token, code=code_for(enrollment, clock.now()))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "60"
    clock.advance(timedelta(seconds=60))
    assert (await verify(client, token, code=code_for(enrollment, clock.now()))).status_code == 200


async def test_fifty_concurrent_wrong_guesses_evaluate_at_most_five(
    client: Client, token: str, clock: FrozenClock
) -> None:  # V5
    enrollment, _ = await _active(client, token)
    wrong = _wrong(enrollment, clock)
    responses = await asyncio.gather(*(verify(client, token, code=wrong) for _ in range(50)))
    statuses = [r.status_code for r in responses]
    evaluated = statuses.count(400)
    assert 1 <= evaluated <= 5, statuses
    shed = [r for r in responses if r.status_code == 503]  # past MFA_MAX_CONCURRENT_REQUESTS
    assert all(r.headers["retry-after"] == "1" for r in shed)
    assert evaluated + statuses.count(429) + len(shed) == 50
    for _ in range(5 - evaluated):  # the parallel guesses refused at once counted nothing
        assert (await verify(client, token, code=wrong)).status_code == 400
    locked = await verify(client, token, code=code_for(enrollment, clock.now(), 1))
    assert locked.status_code == 429


async def test_key_service_down_during_verify_uses_up_nothing(
    app_with: Callable[..., Litestar],
    overrides: Overrides,
    client: Client,
    token: str,
    clock: FrozenClock,
) -> None:  # V7
    enrollment, _ = await _active(client, token)
    clock.advance(timedelta(seconds=30))
    code = code_for(enrollment, clock.now())
    async with serve_in_process(app_with(replace(overrides, cipher=UnavailableCipher()))) as down:
        for _ in range(7):
            assert (await verify(down, token, code=code)).status_code == 503
    response = await verify(client, token, code=code)
    assert response.status_code == 200
    wrong = await verify(client, token, code=_wrong(enrollment, clock))
    assert wrong.json()["attemptsRemaining"] == 4


async def test_recovery_code_works_once(client: Client, token: str) -> None:  # V6
    _, codes = await _active(client, token)
    first = await verify(client, token, recoveryCode=codes[0])
    assert first.status_code == 200
    assert first.json()["method"] == "recoveryCode"
    assert first.json()["recoveryCodesRemaining"] == 9
    assert (await verify(client, token, recoveryCode=codes[0])).status_code == 400


async def test_recovery_code_is_forgiving_about_case_spaces_and_lookalikes(
    client: Client, token: str
) -> None:
    _, codes = await _active(client, token)
    typed = codes[1].lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert (await verify(client, token, recoveryCode=typed)).status_code == 200


async def test_wrong_recovery_codes_count_toward_the_same_lockout(
    client: Client, token: str, clock: FrozenClock
) -> None:  # V6
    enrollment, codes = await _active(client, token)
    for _ in range(3):
        await verify(client, token, code=_wrong(enrollment, clock))
    for _ in range(2):
        assert (await verify(client, token, recoveryCode="AAAA-AAAA-AAAA-AAAA")).status_code == 400
    assert (await verify(client, token, recoveryCode=codes[0])).status_code == 429


async def test_another_users_recovery_code_does_not_work(
    client: Client, token: str, token_for: Callable[..., str]
) -> None:
    _, codes = await _active(client, token)
    bob = token_for("bob")
    await _active(client, bob)
    assert (await verify(client, bob, recoveryCode=codes[0])).status_code == 400


async def test_regenerating_recovery_codes_kills_the_old_set(
    client: Client, token: str, token_for: Callable[..., str]
) -> None:
    _, old = await _active(client, token)
    stepped_up = token_for("alice", amr=["pwd", "otp"], auth_time=int(START.timestamp()))
    response = await client.post("/settings/MfaSecret/recovery-codes", headers=bearer(stepped_up))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    new = response.json()["recoveryCodes"]
    assert len(new) == 10
    assert not set(new) & set(old)
    assert (await verify(client, token, recoveryCode=old[0])).status_code == 400
    assert (await verify(client, token, recoveryCode=new[0])).status_code == 200


async def test_recovery_code_status(client: Client, token: str) -> None:
    empty = await client.get("/settings/MfaSecret/recovery-codes", headers=bearer(token))
    assert empty.json() == {"remaining": 0, "generatedAt": None}
    _, codes = await _active(client, token)
    await verify(client, token, recoveryCode=codes[0])
    status = (await client.get("/settings/MfaSecret/recovery-codes", headers=bearer(token))).json()
    assert status == {"remaining": 9, "generatedAt": "2026-11-27T12:00:00Z"}


async def test_regenerating_without_an_authenticator_is_404(client: Client, token: str) -> None:
    response = await client.post("/settings/MfaSecret/recovery-codes", headers=bearer(token))
    assert response.status_code == 404


async def test_drift_of_a_device_one_step_ahead_is_learned(
    client: Client, token: str, clock: FrozenClock
) -> None:
    enrollment, _ = await _active(client, token)
    clock.advance(timedelta(seconds=60))
    assert (
        await verify(client, token, code=code_for(enrollment, clock.now(), 1))
    ).status_code == 200
    clock.advance(timedelta(seconds=60))
    two_ahead = code_for(enrollment, clock.now(), 2)
    assert (await verify(client, token, code=two_ahead)).status_code == 200


async def test_sha256_eight_digit_policy_verifies_oathtool_codes(
    app_with: Callable[..., Litestar], overrides: Overrides, token: str
) -> None:
    import subprocess

    from domain.policy import HashAlgorithm, TotpPolicy

    app = app_with(overrides, totp_policy=TotpPolicy(HashAlgorithm.SHA256, 8, 30))
    async with serve_in_process(app) as client:
        enrollment = await enroll(client, token)
        assert enrollment["otpauthUri"].endswith("algorithm=SHA256&digits=8&period=30")

        def oathtool(at: int) -> str:
            return subprocess.run(
                ["oathtool", "--totp=sha256", "--digits=8", "--base32", f"--now=@{at}",
                 enrollment["secret"]],
                capture_output=True, text=True, check=True, timeout=10,
            ).stdout.strip()  # fmt: skip

        start = int(START.timestamp())
        assert (await confirm(client, token, enrollment, oathtool(start))).status_code == 200
        assert (await verify(client, token, code=oathtool(start + 30))).status_code == 200
        assert (await verify(client, token, code="123456")).status_code == 400
