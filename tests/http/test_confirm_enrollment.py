"""POST /settings/MfaSecret/{id}/verification (API.md "Enrollment"; SECURITY.md V1-V5, D3)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from litestar import Litestar

from adapters.memory.clock import FrozenClock
from entrypoints.composition import Overrides
from tests.http.conftest import START
from tests.http.flows import Client, code_for, confirm, enroll, verify
from tests.support.doubles import UnavailableCipher
from tests.support.in_process import serve_in_process


@pytest.fixture
def token(token_for: Callable[..., str]) -> str:
    return token_for("alice")


@pytest.mark.parametrize("steps", [-1, 0, 1])
async def test_codes_one_step_either_side_confirm(
    client: Client, token: str, steps: int
) -> None:  # V1
    enrollment = await enroll(client, token)
    response = await confirm(client, token, enrollment, code_for(enrollment, START, steps))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "active"
    assert body["enrollmentId"] == enrollment["enrollmentId"]
    assert body["activatedAt"].startswith("2026-11-27T12:00:00")
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("steps", [-2, 2, 10])
async def test_codes_two_or_more_steps_away_are_rejected(
    client: Client, token: str, steps: int
) -> None:  # V1
    enrollment = await enroll(client, token)
    response = await confirm(client, token, enrollment, code_for(enrollment, START, steps))
    assert response.status_code == 400
    assert (
        await confirm(client, token, enrollment, code_for(enrollment, START))
    ).status_code == 200
    at_sign_in = await verify(client, token, code=code_for(enrollment, START, steps))
    assert at_sign_in.status_code == 400
    assert at_sign_in.json()["type"].endswith(":invalid-code")


async def test_first_confirmation_returns_ten_recovery_codes_once(
    client: Client, token: str, token_for: Callable[..., str]
) -> None:  # V6
    first = await enroll(client, token)
    body = (await confirm(client, token, first, code_for(first, START))).json()
    assert len(body["recoveryCodes"]) == 10
    assert len(set(body["recoveryCodes"])) == 10
    token = token_for("alice", amr=["pwd", "otp"], auth_time=int(START.timestamp()))
    second = await enroll(client, token)
    again = (await confirm(client, token, second, code_for(second, START, 1))).json()
    assert "recoveryCodes" not in again


async def test_confirming_code_is_used_up_and_rejected_at_sign_in(
    client: Client, token: str
) -> None:  # V2
    enrollment = await enroll(client, token)
    code = code_for(enrollment, START)
    assert (await confirm(client, token, enrollment, code)).status_code == 200
    assert (await verify(client, token, code=code)).status_code == 400


async def test_wrong_and_replayed_codes_get_the_same_answer(
    client: Client, token: str, clock: FrozenClock
) -> None:  # V4
    enrollment = await enroll(client, token)
    code = code_for(enrollment, START)
    await confirm(client, token, enrollment, code)
    replayed = await verify(client, token, code=code)
    wrong_code = "000000" if code != "000000" else "111111"
    wrong = await verify(client, token, code=wrong_code)
    assert replayed.status_code == wrong.status_code == 400
    replayed_body, wrong_body = replayed.json(), wrong.json()
    assert replayed_body.pop("attemptsRemaining") == 4
    assert wrong_body.pop("attemptsRemaining") == 3
    assert replayed_body == wrong_body


async def test_another_users_enrollment_is_not_found(
    client: Client, token: str, token_for: Callable[..., str]
) -> None:
    enrollment = await enroll(client, token)
    mallory = token_for("mallory")
    response = await confirm(client, mallory, enrollment, code_for(enrollment, START))
    assert response.status_code == 404
    assert (
        await confirm(client, token, enrollment, code_for(enrollment, START))
    ).status_code == 200


@pytest.mark.parametrize("enrollment_id", ["0b6f1c2e-0000-4000-8000-000000000000", "not-a-uuid"])
async def test_unknown_enrollment_is_not_found(
    client: Client, token: str, enrollment_id: str
) -> None:
    response = await confirm(client, token, {"enrollmentId": enrollment_id}, "123456")
    assert response.status_code == 404


async def test_active_enrollment_cannot_be_confirmed_again(client: Client, token: str) -> None:
    enrollment = await enroll(client, token)
    await confirm(client, token, enrollment, code_for(enrollment, START))
    response = await confirm(client, token, enrollment, code_for(enrollment, START, 1))
    assert response.status_code == 409


async def test_expired_enrollment_is_gone(client: Client, token: str, clock: FrozenClock) -> None:
    enrollment = await enroll(client, token)
    clock.advance(timedelta(minutes=10))
    response = await confirm(client, token, enrollment, code_for(enrollment, clock.now()))
    assert response.status_code == 410


async def test_replaced_enrollment_stops_working(client: Client, token: str) -> None:
    old = await enroll(client, token)
    await enroll(client, token)
    assert (await confirm(client, token, old, code_for(old, START))).status_code == 404


async def test_confirmations_that_cannot_be_checked_take_no_attempt(
    client: Client, token: str, clock: FrozenClock
) -> None:  # V5: the quota counts guesses, not requests that were never checked
    enrollment = await enroll(client, token)
    assert (
        await confirm(client, token, {"enrollmentId": str(uuid.uuid4())}, "123456")
    ).status_code == 404
    for malformed in ("12345", "12a456", "１２３４５６"):
        assert (await confirm(client, token, enrollment, malformed)).status_code == 400
    late = await enroll(client, token)
    clock.advance(timedelta(minutes=10))
    assert (await confirm(client, token, late, code_for(late, clock.now()))).status_code == 410
    fresh = await enroll(client, token)
    taken = {code_for(fresh, clock.now(), step) for step in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in taken)
    assert (await confirm(client, token, fresh, wrong)).json()["attemptsRemaining"] == 4


@pytest.mark.parametrize(
    "code",
    [
        "12345",
        "1234567",
        "12345a",
        "１２３４５６",
        "１23456",
        " 123456",
        "123 456",
        123456,
        None,
        "",
    ],
)
async def test_codes_that_are_not_six_ascii_digits_are_invalid_requests(
    client: Client, token: str, code: object
) -> None:  # V3
    enrollment = await enroll(client, token)
    response = await confirm(client, token, enrollment, code)
    assert response.status_code == 400
    assert response.json()["type"].endswith(":invalid-request")


async def test_fullwidth_digits_of_the_right_code_are_refused(
    client: Client, token: str
) -> None:  # V3
    enrollment = await enroll(client, token)
    right = code_for(enrollment, START)
    fullwidth = right.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert (await confirm(client, token, enrollment, fullwidth)).status_code == 400
    assert (await confirm(client, token, enrollment, right)).status_code == 200


async def test_five_failures_lock_and_the_sixth_attempt_is_429_even_with_the_right_code(
    client: Client, token: str
) -> None:  # V5
    enrollment = await enroll(client, token)
    right = code_for(enrollment, START)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    for remaining in (4, 3, 2, 1, 0):
        response = await confirm(client, token, enrollment, wrong)
        assert response.status_code == 400
        assert response.json()["attemptsRemaining"] == remaining
    locked = await confirm(client, token, enrollment, right)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) == 60


async def test_block_ends_and_grows_after_the_next_five_failures(
    client: Client, token: str, clock: FrozenClock
) -> None:  # V5
    enrollment = await enroll(
        client,
        token,
    )
    wrong = "000000" if code_for(enrollment, START) != "000000" else "111111"
    for _ in range(5):
        await confirm(client, token, enrollment, wrong)
    clock.advance(timedelta(seconds=61))
    fresh = await enroll(client, token)
    for _ in range(5):
        assert (await confirm(client, token, fresh, wrong)).status_code == 400
    locked = await confirm(client, token, fresh, code_for(fresh, clock.now()))
    assert int(locked.headers["retry-after"]) == 120


async def test_success_resets_the_count(client: Client, token: str) -> None:  # V5
    enrollment = await enroll(client, token)
    right = code_for(enrollment, START)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    for _ in range(4):
        await confirm(client, token, enrollment, wrong)
    assert (await confirm(client, token, enrollment, right)).status_code == 200
    response = await verify(client, token, code=wrong)
    assert response.json()["attemptsRemaining"] == 4


async def test_new_enrollment_does_not_reset_the_count(client: Client, token: str) -> None:  # V5
    enrollment = await enroll(client, token)
    wrong = "000000" if code_for(enrollment, START) != "000000" else "111111"
    for _ in range(4):
        await confirm(client, token, enrollment, wrong)
    fresh = await enroll(client, token)
    response = await confirm(
        client, token, fresh, wrong if wrong != code_for(fresh, START) else "222222"
    )
    assert response.json()["attemptsRemaining"] == 0


async def test_the_count_is_shared_by_every_token_of_the_user(
    client: Client, token_for: Callable[..., str]
) -> None:  # V5
    first, second = token_for("alice"), token_for("alice")
    enrollment = await enroll(client, first)
    wrong = "000000" if code_for(enrollment, START) != "000000" else "111111"
    for _ in range(3):
        await confirm(client, first, enrollment, wrong)
    response = await confirm(client, second, enrollment, wrong)
    assert response.json()["attemptsRemaining"] == 1


async def test_twenty_concurrent_confirmations_with_the_right_code_give_exactly_one_200(
    client: Client, token: str
) -> None:  # D3
    enrollment = await enroll(client, token)
    code = code_for(enrollment, START)
    responses = await asyncio.gather(*(confirm(client, token, enrollment, code) for _ in range(20)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1
    assert set(statuses) <= {200, 400, 409, 429, 503}  # 503: past MFA_MAX_CONCURRENT_REQUESTS
    assert all(r.headers["retry-after"] == "1" for r in responses if r.status_code == 503)


async def test_key_service_down_during_confirmation_counts_nothing(
    app_with: Callable[..., Litestar], overrides: Overrides, client: Client, token: str
) -> None:  # V7
    enrollment = await enroll(client, token)
    failing_app = app_with(replace(overrides, cipher=UnavailableCipher()))
    async with serve_in_process(failing_app) as failing:
        for _ in range(6):
            response = await confirm(failing, token, enrollment, code_for(enrollment, START))
            assert response.status_code == 503
            assert response.headers["retry-after"].isdigit()
    wrong = f"{(int(code_for(enrollment, START)) + 1) % 1000000:06d}"
    assert (await confirm(client, token, enrollment, wrong)).json()["attemptsRemaining"] == 4


async def test_oathtool_code_confirms(client: Client, token: str) -> None:
    import subprocess

    enrollment = await enroll(client, token)
    code = subprocess.run(
        ["oathtool", "--totp", "--base32", f"--now=@{int(START.timestamp())}", enrollment["secret"]],
        capture_output=True, text=True, check=True, timeout=10,
    ).stdout.strip()  # fmt: skip
    assert (await confirm(client, token, enrollment, code)).status_code == 200
