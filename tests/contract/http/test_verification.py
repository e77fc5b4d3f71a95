"""POST /mfa/verify: a code, or a recovery code, at sign-in or before a sensitive action (API.md "Using
the authenticator"; SECURITY.md V1-V6)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.contract.http.api import (
    VERIFY,
    Active,
    activate,
    assert_common_headers,
    assert_problem,
    assert_retry_after,
    bearer,
    enroll,
    item,
    verify,
)
from tests.contract.http.harness import Clock, MintToken
from tests.contract.http.totp import settled_now


def _public(problem: dict[str, Any]) -> dict[str, Any]:
    """What a wrong and a replayed code must share: everything but the count of attempts left."""
    return {k: v for k, v in problem.items() if k != "attemptsRemaining"}


async def _active(client: httpx.AsyncClient, token: str) -> tuple[Active, float]:
    now = await settled_now()
    return await activate(client, token, now), now


async def test_a_current_code_verifies(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active, now = await _active(client, token)

    response = await verify(client, token, code=active.app.code(now, 1))

    assert response.status_code == 200, response.text
    assert_common_headers(response)
    body = response.json()
    assert body["verified"] is True
    assert (body["method"], body["enrollmentId"]) == ("totp", active.id)
    assert body["verifiedAt"].endswith("Z")
    assert body["recoveryCodesRemaining"] == 10


async def test_a_wrong_and_a_replayed_code_get_the_same_answer(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active, now = await _active(client, token)
    assert (await verify(client, token, code=active.app.code(now, 1))).status_code == 200

    replayed = assert_problem(await verify(client, token, code=active.app.code(now, 1)), 400)
    confirming = assert_problem(await verify(client, token, code=active.app.code(now)), 400)
    wrong = assert_problem(await verify(client, token, code=active.app.wrong_code(now)), 400)

    assert _public(replayed) == _public(confirming) == _public(wrong)
    assert replayed["type"].endswith(":invalid-code")


async def test_a_code_is_accepted_once_even_when_sent_twice_at_once(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active, now = await _active(client, token)

    responses = await asyncio.gather(
        *(verify(client, token, code=active.app.code(now, 1)) for _ in range(5))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 400, 429}, (
        "a check that meets another in flight is refused at once"
    )


async def test_an_older_step_after_a_newer_one_is_refused(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active, now = await _active(client, token)
    assert (await verify(client, token, code=active.app.code(now, 1))).status_code == 200

    assert_problem(await verify(client, token, code=active.app.code(now, -1)), 400)


async def test_a_retried_success_is_never_answered_from_a_stored_answer(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    """API.md conventions: a check is a fact about now. A retry of a check that succeeded (a lost
    answer, or a captured request) gets 409 answer-shown-once, and is not counted as a guess."""
    token = mint_token(subject)
    active, now = await _active(client, token)
    headers = bearer(token, **{"Idempotency-Key": str(uuid.uuid4())})

    first = await client.post(VERIFY, json={"code": active.app.code(now, 1)}, headers=headers)
    retried = await client.post(VERIFY, json={"code": active.app.code(now, 1)}, headers=headers)

    assert first.status_code == 200, first.text
    assert_problem(retried, 409, "answer-shown-once")
    assert "verified" not in retried.text
    wrong = assert_problem(await verify(client, token, code=active.app.wrong_code(now)), 400)
    assert wrong["attemptsRemaining"] == 4


@pytest.mark.parametrize(
    "then",
    # removing needs a step-up token, whose claims the test chooses
    ["locked out", pytest.param("authenticator removed", marks=pytest.mark.needs_control)],
)
async def test_a_captured_successful_check_replays_no_success(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, then: str
) -> None:
    """Whoever captured one successful request gets no "verified" answer from it, whatever
    happened since (outside test, issue 11)."""
    token = mint_token(subject)
    active, now = await _active(client, token)
    captured = bearer(token, **{"Idempotency-Key": str(uuid.uuid4())})
    body = {"code": active.app.code(now, 1)}
    assert (await client.post(VERIFY, json=body, headers=captured)).status_code == 200
    if then == "locked out":
        for _ in range(5):
            await verify(client, token, code=active.app.wrong_code(now))
        assert_problem(await verify(client, token, code=active.app.code(now, 2)), 429)
    else:
        stepped_up = mint_token(subject, amr=["pwd", "otp"], auth_time=int(time.time()))
        removal = await client.delete(item(active.id), headers=bearer(stepped_up))
        assert removal.status_code == 204, removal.text

    replayed = await client.post(VERIFY, json=body, headers=captured)

    assert replayed.status_code != 200
    assert "verified" not in replayed.text


async def test_a_recovery_code_verifies_once(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active, _ = await _active(client, token)
    recovery_code = active.recovery_codes[3]

    used = await verify(client, token, recoveryCode=recovery_code)
    again = await verify(client, token, recoveryCode=recovery_code)

    assert used.status_code == 200, used.text
    assert used.json()["method"] == "recoveryCode"
    assert used.json()["recoveryCodesRemaining"] == 9
    assert_problem(again, 400)


async def test_a_recovery_code_ignores_case_spaces_and_hyphens(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active, _ = await _active(client, token)
    typed = " ".join(active.recovery_codes[0].replace("-", "").lower())

    response = await verify(client, token, recoveryCode=typed)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="neither"),
        pytest.param({"code": "123456", "recoveryCode": "AAAA-BBBB-CCCC-DDDD"}, id="both"),
        pytest.param({"code": 123456}, id="number"),
        pytest.param({"code": "１２３４５６"}, id="fullwidth"),
        pytest.param({"code": "12345"}, id="short"),
        pytest.param({"code": "123456", "trust": True}, id="unknown field"),
    ],
)
async def test_a_malformed_verification_is_400_and_not_counted(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, body: dict[str, object]
) -> None:
    token = mint_token(subject)
    active, now = await _active(client, token)

    for _ in range(6):
        assert_problem(await verify(client, token, **body), 400)

    assert (await verify(client, token, code=active.app.code(now, 1))).status_code == 200


async def test_without_an_active_authenticator_verification_is_404(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    nothing = await verify(client, token, code="123456")
    await enroll(client, token)
    only_pending = await verify(client, token, code="123456")

    assert_problem(nothing, 404, "no-active-authenticator")
    assert_problem(only_pending, 404, "no-active-authenticator")


async def test_five_failures_lock_with_retry_after_even_for_the_right_code(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active, now = await _active(client, token)

    remaining = [
        assert_problem(await verify(client, token, code=active.app.wrong_code(now)), 400).get(
            "attemptsRemaining"
        )
        for _ in range(5)
    ]
    locked = await verify(client, token, code=active.app.code(now, 1))
    by_recovery_code = await verify(client, token, recoveryCode=active.recovery_codes[0])

    assert remaining == [4, 3, 2, 1, 0]
    for response in (locked, by_recovery_code):
        assert_problem(response, 429, "too-many-attempts")
        assert_retry_after(response)


async def test_fifty_parallel_guesses_are_evaluated_at_most_five_times(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active, now = await _active(client, token)

    responses = await asyncio.gather(
        *(verify(client, token, code=active.app.wrong_code(now)) for _ in range(50))
    )

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {400, 429, 503}, statuses
    evaluated = statuses.count(400)
    assert 1 <= evaluated <= 5, statuses
    for shed in (r for r in responses if r.status_code == 503):  # past the service's bound on
        assert_problem(shed, 503)  # requests in flight (MFA_MAX_CONCURRENT_REQUESTS): not
        assert_retry_after(shed)  # evaluated, refused at once
    for _ in range(5 - evaluated):  # the guesses refused at once counted nothing
        assert_problem(await verify(client, token, code=active.app.wrong_code(now)), 400)
    assert_problem(await verify(client, token, code=active.app.code(now, 1)), 429)


async def test_wrong_recovery_codes_count_towards_the_same_lockout(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active, now = await _active(client, token)

    for _ in range(5):
        assert_problem(await verify(client, token, recoveryCode="AAAA-BBBB-CCCC-DDDD"), 400)

    assert_problem(await verify(client, token, code=active.app.code(now, 1)), 429)


async def test_a_success_resets_the_failure_count(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active, now = await _active(client, token)
    for _ in range(4):
        assert_problem(await verify(client, token, code=active.app.wrong_code(now)), 400)
    assert (await verify(client, token, code=active.app.code(now, 1))).status_code == 200

    after = [
        assert_problem(await verify(client, token, code=active.app.wrong_code(now)), 400)
        for _ in range(4)
    ]

    assert after[-1]["attemptsRemaining"] == 1


@pytest.mark.needs_control
async def test_a_new_enrollment_does_not_reset_the_failure_count(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active, now = await _active(client, token)
    for _ in range(4):
        assert_problem(await verify(client, token, code=active.app.wrong_code(now)), 400)

    await enroll(client, mint_token(subject, amr=["pwd", "otp"]))
    assert_problem(await verify(client, token, code=active.app.wrong_code(now)), 400)

    assert_problem(await verify(client, token, code=active.app.code(now, 1)), 429)


@pytest.mark.needs_injection
async def test_the_lock_lifts_after_retry_after(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, clock: Clock
) -> None:
    token = mint_token(subject)
    active = await activate(client, token, clock.now())
    for _ in range(5):
        await verify(client, token, code=active.app.wrong_code(clock.now()))
    retry_after = assert_retry_after(await verify(client, token, code=active.app.code(clock.now())))

    clock.advance(retry_after + 1)
    response = await verify(client, mint_token(subject), code=active.app.code(clock.now()))

    assert response.status_code == 200, response.text


@pytest.mark.needs_injection
@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (0, True), (1, True),
                                                 (2, False)])  # fmt: skip
async def test_the_code_of_one_step_either_side_verifies(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
    clock: Clock,
    steps: int,
    accepted: bool,
) -> None:
    token = mint_token(subject)
    active = await activate(client, token, clock.now())
    clock.advance(5 * active.app.period)

    response = await verify(client, mint_token(subject), code=active.app.code(clock.now(), steps))

    assert (response.status_code == 200) is accepted, response.text


@pytest.mark.parametrize("steps", [-2, 2, 10])
async def test_a_code_two_or_more_steps_away_is_an_invalid_code_at_sign_in(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, steps: int
) -> None:
    token = mint_token(subject)
    active, now = await _active(client, token)

    response = await verify(client, token, code=active.app.code(now, steps))

    assert_problem(response, 400, "invalid-code")


async def test_checks_without_an_authenticator_take_no_attempt(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    """SECURITY.md V5: the quota counts guesses, not requests that were never checked."""
    token = mint_token(subject)
    for _ in range(6):
        assert_problem(await verify(client, token, code="123456"), 404)
    active, now = await _active(client, token)

    response = await verify(client, token, code=active.app.wrong_code(now))

    assert assert_problem(response, 400)["attemptsRemaining"] == 4


@pytest.mark.needs_injection
async def test_a_key_service_outage_during_a_check_uses_up_nothing(
    client: httpx.AsyncClient,
    key_service_down_client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
) -> None:
    """SECURITY.md V7: neither the code nor an attempt."""
    token = mint_token(subject)
    active, now = await _active(client, token)
    code = active.app.code(now, 1)
    for _ in range(7):
        down = await verify(key_service_down_client, token, code=code)
        assert_problem(down, 503)
        assert_retry_after(down)

    response = await verify(client, token, code=code)

    assert response.status_code == 200, response.text
    wrong = assert_problem(await verify(client, token, code=active.app.wrong_code(now)), 400)
    assert wrong["attemptsRemaining"] == 4


async def test_a_recovery_code_forgives_lookalike_letters(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active, _ = await _active(client, token)
    typed = active.recovery_codes[1].lower().replace("-", " ").replace("0", "o").replace("1", "l")

    response = await verify(client, token, recoveryCode=typed)

    assert response.status_code == 200, response.text


async def test_another_users_recovery_code_does_not_verify(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    mine, _ = await _active(client, mint_token(subject))
    other = mint_token(f"{subject}-other")
    await _active(client, other)

    assert_problem(await verify(client, other, recoveryCode=mine.recovery_codes[0]), 400)


@pytest.mark.needs_injection
async def test_the_window_stays_one_step_either_side_of_the_servers_clock(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, clock: Clock
) -> None:
    """A device one step ahead is accepted, and does not move the window (outside test: learned
    drift accepted codes up to three steps ahead, where API.md says one)."""
    token = mint_token(subject)
    active = await activate(client, token, clock.now())
    for _ in range(2):
        clock.advance(2 * active.app.period)
        ahead = await verify(client, mint_token(subject), code=active.app.code(clock.now(), 1))
        assert ahead.status_code == 200, ahead.text
    clock.advance(2 * active.app.period)

    response = await verify(client, mint_token(subject), code=active.app.code(clock.now(), 2))

    assert_problem(response, 400)
