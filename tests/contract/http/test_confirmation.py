"""POST /settings/MfaSecret/{enrollmentId}/verification: the first code activates the authenticator
(API.md "Enrollment"; SECURITY.md V1-V5)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.contract.http.api import (
    ENROLLMENTS,
    assert_common_headers,
    assert_problem,
    assert_retry_after,
    bearer,
    confirm,
    enroll,
    item,
    verification,
    verify,
    with_code,
)
from tests.contract.http.harness import Clock, MintToken
from tests.contract.http.totp import Authenticator, settled_now

PENDING_TTL_SECONDS = 600
"""API.md: pending enrollments expire (default 10 minutes)."""


async def test_the_first_code_activates_the_authenticator_with_ten_recovery_codes(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token)
    app = Authenticator.from_enrollment(enrollment)

    response = await confirm(
        client, token, enrollment["enrollmentId"], app.code(await settled_now())
    )

    assert response.status_code == 200, response.text
    assert_common_headers(response)
    body = response.json()
    assert (body["enrollmentId"], body["status"]) == (enrollment["enrollmentId"], "active")
    assert body["activatedAt"].endswith("Z")
    codes = body["recoveryCodes"]
    assert len(codes) == len(set(codes)) == 10
    assert all(isinstance(code, str) and len(code) >= 10 for code in codes)
    fetched = (await client.get(item(enrollment["enrollmentId"]), headers=bearer(token))).json()
    assert (fetched["status"], fetched["activatedAt"]) == ("active", body["activatedAt"])


async def test_a_wrong_code_is_400_and_the_enrollment_stays_pending(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token)
    app = Authenticator.from_enrollment(enrollment)
    now = await settled_now()

    response = await confirm(client, token, enrollment["enrollmentId"], app.wrong_code(now))

    problem = assert_problem(response, 400, "invalid-code")
    assert problem["attemptsRemaining"] == 4
    listed = (await client.get(ENROLLMENTS, headers=bearer(token))).json()
    assert [a["status"] for a in listed] == ["pending"]
    assert (
        await confirm(client, token, enrollment["enrollmentId"], app.code(now))
    ).status_code == 200


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("12345", id="five digits"),
        pytest.param("1234567", id="seven digits"),
        pytest.param("１２３４５６", id="fullwidth digits"),
        pytest.param("１23456", id="one fullwidth digit"),
        pytest.param("١٢٣٤٥٦", id="arabic-indic digits"),
        pytest.param(" 123456", id="leading space"),
        pytest.param("123 456", id="inner space"),
        pytest.param("12345a", id="letter"),
        pytest.param("+12345", id="sign"),
        pytest.param("", id="empty"),
        pytest.param(123456, id="number"),
        pytest.param(None, id="null"),
        pytest.param(["123456"], id="array"),
    ],
)
async def test_a_code_that_is_not_six_ascii_digits_is_400_and_not_counted(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, code: object
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token)

    for _ in range(6):
        assert_problem(
            await confirm(client, token, enrollment["enrollmentId"], code), 400, "invalid-request"
        )

    app = Authenticator.from_enrollment(enrollment)
    confirmed = await confirm(
        client, token, enrollment["enrollmentId"], app.code(await settled_now())
    )
    assert confirmed.status_code == 200, "malformed codes never count towards the lockout"


async def test_an_unknown_malformed_or_foreign_enrollment_is_404(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    owner = mint_token(subject)
    other = mint_token(f"{subject}-other")
    enrollment = await enroll(client, owner)
    code = Authenticator.from_enrollment(enrollment).code(await settled_now())

    for enrollment_id, token in [
        (str(uuid.uuid4()), owner),
        ("not-a-uuid", owner),
        (enrollment["enrollmentId"], other),
    ]:
        assert_problem(await confirm(client, token, enrollment_id, code), 404)
    assert (await confirm(client, owner, enrollment["enrollmentId"], code)).status_code == 200


async def test_an_active_authenticator_cannot_be_confirmed_again(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token)
    app = Authenticator.from_enrollment(enrollment)
    now = await settled_now()
    assert (
        await confirm(client, token, enrollment["enrollmentId"], app.code(now))
    ).status_code == 200

    response = await confirm(client, token, enrollment["enrollmentId"], app.code(now, 1))

    assert_problem(response, 409)


async def test_five_wrong_codes_lock_confirmation_even_for_the_right_code(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token)
    app = Authenticator.from_enrollment(enrollment)
    now = await settled_now()

    remaining = [
        assert_problem(
            await confirm(client, token, enrollment["enrollmentId"], app.wrong_code(now)), 400
        ).get("attemptsRemaining")
        for _ in range(5)
    ]
    locked = await confirm(client, token, enrollment["enrollmentId"], app.code(now))

    assert remaining == [4, 3, 2, 1, 0]
    assert_problem(locked, 429, "too-many-attempts")
    assert_retry_after(locked)


async def test_concurrent_confirmations_with_the_right_code_activate_exactly_once(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token)
    code = Authenticator.from_enrollment(enrollment).code(await settled_now())

    responses = await asyncio.gather(
        *(confirm(client, token, enrollment["enrollmentId"], code) for _ in range(10))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1, [r.text for r in responses]
    assert set(statuses) <= {200, 400, 409, 429}, "the others are replays (which count as failures)"


@pytest.mark.needs_injection
async def test_an_expired_enrollment_is_410(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, clock: Clock
) -> None:
    enrollment = await enroll(client, mint_token(subject))
    app = Authenticator.from_enrollment(enrollment)

    clock.advance(PENDING_TTL_SECONDS + 1)
    response = await confirm(client, mint_token(subject), enrollment["enrollmentId"],
                             app.code(clock.now()))  # fmt: skip

    assert_problem(response, 410, "enrollment-expired")


@pytest.mark.needs_injection
async def test_an_enrollment_is_confirmable_until_it_expires(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, clock: Clock
) -> None:
    enrollment = await enroll(client, mint_token(subject))
    app = Authenticator.from_enrollment(enrollment)

    clock.advance(PENDING_TTL_SECONDS - 30)
    response = await confirm(client, mint_token(subject), enrollment["enrollmentId"],
                             app.code(clock.now()))  # fmt: skip

    assert response.status_code == 200, response.text


@pytest.mark.needs_injection
@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
async def test_the_code_of_one_step_either_side_confirms(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
    clock: Clock,
    steps: int,
    accepted: bool,
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token)
    app = Authenticator.from_enrollment(enrollment)

    response = await client.post(
        verification(enrollment["enrollmentId"]),
        json={"code": app.code(clock.now(), steps)},
        headers=bearer(token),
    )

    assert (response.status_code == 200) is accepted, response.text


@pytest.mark.parametrize(
    ("steps", "slug", "skew"),
    [
        (2, "device-clock-skew", 60),
        (-3, "device-clock-skew", -90),
        (10, "device-clock-skew", 300),
        (11, "invalid-code", None),
    ],
    ids=["ahead", "behind", "far ahead", "too far to be a clock"],
)
async def test_a_code_from_a_device_with_a_wrong_clock_is_refused_with_the_skew(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
    steps: int,
    slug: str,
    skew: int | None,
) -> None:
    """Up to ten steps away, the refusal says by how much the device's clock is off."""
    token = mint_token(subject)
    enrollment = await enroll(client, token)
    app = Authenticator.from_enrollment(enrollment)

    response = await confirm(
        client, token, enrollment["enrollmentId"], app.code(await settled_now(), steps)
    )

    problem = assert_problem(response, 400, slug)
    assert problem.get("estimatedSkewSeconds") == skew
    assert problem["attemptsRemaining"] == 4


@pytest.mark.needs_injection
async def test_confirmations_that_check_no_code_take_no_attempt(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, clock: Clock
) -> None:
    """SECURITY.md V5: the quota counts guesses, not requests that were never checked."""
    token = mint_token(subject)
    enrollment = await enroll(client, token)
    assert_problem(await confirm(client, token, str(uuid.uuid4()), "123456"), 404)
    for malformed in ("12345", "12a456", "１２３４５６"):
        assert_problem(await confirm(client, token, enrollment["enrollmentId"], malformed), 400)
    late = await enroll(client, token)
    clock.advance(PENDING_TTL_SECONDS + 1)
    expired_code = Authenticator.from_enrollment(late).code(clock.now())
    token = mint_token(subject)
    assert_problem(await confirm(client, token, late["enrollmentId"], expired_code), 410)
    fresh = await enroll(client, token)

    response = await confirm(
        client,
        token,
        fresh["enrollmentId"],
        Authenticator.from_enrollment(fresh).wrong_code(clock.now()),
    )

    assert assert_problem(response, 400)["attemptsRemaining"] == 4


@pytest.mark.needs_injection
async def test_the_lock_lasts_a_minute_and_doubles_after_the_next_five_failures(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, clock: Clock
) -> None:
    token = mint_token(subject)
    retry_afters = []
    for _ in range(2):
        enrollment = await enroll(client, token)
        app = Authenticator.from_enrollment(enrollment)
        for _ in range(5):
            wrong = app.wrong_code(clock.now())
            assert_problem(await confirm(client, token, enrollment["enrollmentId"], wrong), 400)
        locked = await confirm(client, token, enrollment["enrollmentId"], app.code(clock.now()))
        retry_afters.append(assert_retry_after(locked))
        clock.advance(retry_afters[-1] + 1)
        token = mint_token(subject)

    assert retry_afters == [60, 120]


async def test_a_confirmation_resets_the_failure_count_of_sign_in(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token)
    app = Authenticator.from_enrollment(enrollment)
    now = await settled_now()
    for _ in range(4):
        assert_problem(
            await confirm(client, token, enrollment["enrollmentId"], app.wrong_code(now)), 400
        )
    assert (
        await confirm(client, token, enrollment["enrollmentId"], app.code(now))
    ).status_code == 200

    response = await verify(client, token, code=app.wrong_code(now))

    assert assert_problem(response, 400)["attemptsRemaining"] == 4


async def test_the_failure_count_is_shared_by_every_token_of_the_user(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    enrollment = await enroll(client, mint_token(subject))
    app = Authenticator.from_enrollment(enrollment)
    now = await settled_now()
    for _ in range(3):
        wrong = app.wrong_code(now)
        await confirm(client, mint_token(subject), enrollment["enrollmentId"], wrong)

    response = await confirm(
        client, mint_token(subject), enrollment["enrollmentId"], app.wrong_code(now)
    )

    assert assert_problem(response, 400)["attemptsRemaining"] == 1


@pytest.mark.needs_injection
async def test_a_key_service_outage_during_confirmation_counts_nothing(
    client: httpx.AsyncClient,
    key_service_down_client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
) -> None:
    """SECURITY.md V7."""
    token = mint_token(subject)
    enrollment = await enroll(client, token)
    app = Authenticator.from_enrollment(enrollment)
    now = await settled_now()

    for _ in range(6):
        down = await confirm(
            key_service_down_client, token, enrollment["enrollmentId"], app.code(now)
        )
        assert_problem(down, 503)
        assert_retry_after(down)

    wrong = await confirm(client, token, enrollment["enrollmentId"], app.wrong_code(now))
    assert assert_problem(wrong, 400)["attemptsRemaining"] == 4


async def test_a_retried_confirmation_returns_the_activation_without_the_recovery_codes(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token)
    body = {"code": Authenticator.from_enrollment(enrollment).code(await settled_now())}
    headers = bearer(token, **{"Idempotency-Key": str(uuid.uuid4())})

    first = await client.post(verification(enrollment["enrollmentId"]), json=body, headers=headers)
    again = await client.post(verification(enrollment["enrollmentId"]), json=body, headers=headers)

    assert first.status_code == again.status_code == 200, again.text
    assert len(first.json()["recoveryCodes"]) == 10
    assert again.json() == {k: v for k, v in first.json().items() if k != "recoveryCodes"}


async def _confirmed_with_a_key(
    client: httpx.AsyncClient, token: str
) -> tuple[dict[str, object], Authenticator, float, dict[str, str], dict[str, str]]:
    """An enrollment confirmed with an Idempotency-Key; what a retry of it sends again."""
    enrollment = await enroll(client, token)
    app = Authenticator.from_enrollment(enrollment)
    now = await settled_now()
    body = {"code": app.code(now)}
    headers = bearer(token, **{"Idempotency-Key": str(uuid.uuid4())})
    first = await client.post(verification(enrollment["enrollmentId"]), json=body, headers=headers)
    assert first.status_code == 200, first.text
    return enrollment, app, now, body, headers


async def test_a_retried_confirmation_is_404_once_the_authenticator_was_revoked(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    enrollment, app, now, body, headers = await _confirmed_with_a_key(client, token)
    revoked = await client.delete(
        item(str(enrollment["enrollmentId"])), headers=with_code(token, app.code(now, 1))
    )

    again = await client.post(
        verification(str(enrollment["enrollmentId"])), json=body, headers=headers
    )

    assert revoked.status_code == 204, revoked.text
    assert_problem(again, 404)


async def test_a_retried_confirmation_is_429_while_the_user_is_locked_out(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    enrollment, app, now, body, headers = await _confirmed_with_a_key(client, token)
    for _ in range(5):
        assert_problem(await verify(client, token, code=app.wrong_code(now)), 400)

    again = await client.post(
        verification(str(enrollment["enrollmentId"])), json=body, headers=headers
    )

    assert_problem(again, 429, "too-many-attempts")
    assert_retry_after(again)
