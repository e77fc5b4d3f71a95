"""Managing authenticators and recovery codes (API.md "Managing authenticators"): list, read, rename,
revoke, step-up (RFC 9470), and a user sees and touches only their own."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.contract.http.api import (
    ENROLLMENTS,
    RECOVERY_CODES,
    activate,
    assert_common_headers,
    assert_problem,
    assert_step_up_required,
    bearer,
    confirm,
    enroll,
    item,
    verify,
    with_code,
)
from tests.contract.http.harness import Clock, MintToken
from tests.contract.http.totp import Authenticator, settled_now

METADATA = {
    "id", "method", "status", "deviceName", "createdAt", "activatedAt", "lastUsedAt",
    "algorithm", "digits", "period",
}  # fmt: skip


async def test_a_new_user_has_no_authenticators_and_no_recovery_codes(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)

    listed = await client.get(ENROLLMENTS, headers=bearer(token))
    status = await client.get(RECOVERY_CODES, headers=bearer(token))

    assert (listed.status_code, listed.json()) == (200, [])
    assert (status.status_code, status.json()) == (200, {"remaining": 0, "generatedAt": None})


async def test_the_list_shows_metadata_only_oldest_first(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    now = await settled_now()
    active = await activate(client, token, now, deviceName="Work phone")
    step_up = with_code(token, active.app.code(now, 1))
    started = await client.post(
        ENROLLMENTS, json={"mfaMethod": "totp", "deviceName": "New phone"}, headers=step_up
    )
    assert started.status_code == 200, started.text
    pending: dict[str, Any] = started.json()

    response = await client.get(ENROLLMENTS, headers=bearer(token))

    assert response.status_code == 200
    assert_common_headers(response)
    listed = response.json()
    assert [(a["id"], a["status"], a["deviceName"]) for a in listed] == [
        (active.id, "active", "Work phone"),
        (pending["enrollmentId"], "pending", "New phone"),
    ]
    assert all(set(a) == METADATA for a in listed)
    for secret_bearing in (active.enrollment["secret"], pending["secret"], "otpauth", "data:image"):
        assert secret_bearing not in response.text


async def test_one_authenticator_is_read_by_its_id(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token, deviceName="Tablet")

    response = await client.get(item(enrollment["enrollmentId"]), headers=bearer(token))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == METADATA
    assert (body["id"], body["status"], body["deviceName"]) == (
        enrollment["enrollmentId"],
        "pending",
        "Tablet",
    )
    assert enrollment["secret"] not in response.text


async def test_users_see_and_touch_only_their_own(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    owner = mint_token(subject)
    active = await activate(client, owner, await settled_now(), deviceName="Mine")
    mallory = mint_token(f"{subject}-mallory")
    path = item(active.id)

    assert (await client.get(ENROLLMENTS, headers=bearer(mallory))).json() == []
    assert_problem(await client.get(path, headers=bearer(mallory)), 404)
    assert_problem(await client.patch(path, json={"deviceName": "x"}, headers=bearer(mallory)), 404)
    assert_problem(await client.delete(path, headers=bearer(mallory)), 404)
    assert_problem(await confirm(client, mallory, active.id, "123456"), 404)
    assert (await client.get(path, headers=bearer(owner))).json()["deviceName"] == "Mine"


@pytest.mark.parametrize("enrollment_id", [str(uuid.uuid4()), "not-a-uuid", "0" * 100, "%00"])
async def test_an_unknown_or_malformed_id_is_404(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, enrollment_id: str
) -> None:
    token = mint_token(subject)
    path = item(enrollment_id)

    assert_problem(await client.get(path, headers=bearer(token)), 404)
    assert_problem(await client.patch(path, json={"deviceName": "x"}, headers=bearer(token)), 404)
    assert_problem(await client.delete(path, headers=bearer(token)), 404)


async def test_renaming_changes_only_the_name(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active = await activate(client, token, await settled_now(), deviceName="Phone")
    path = item(active.id)
    before = (await client.get(path, headers=bearer(token))).json()

    renamed = await client.patch(path, json={"deviceName": "Pixel 9"}, headers=bearer(token))
    cleared = await client.patch(path, json={"deviceName": None}, headers=bearer(token))

    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {**before, "deviceName": "Pixel 9"}
    assert cleared.status_code == 200, cleared.text
    assert (await client.get(path, headers=bearer(token))).json() == {**before, "deviceName": None}


@pytest.mark.parametrize(
    "body",
    [{"deviceName": ""}, {"deviceName": "a\nb"}, {"deviceName": "x" * 65}, {"name": "x"}, {},
     {"deviceName": "ok", "status": "active"}, {"deviceName": "\u3164"},
     {"deviceName": "\u2800 \uffa0"}],
)  # fmt: skip
async def test_an_invalid_rename_is_400_and_changes_nothing(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, body: dict[str, object]
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token, deviceName="Phone")
    path = item(enrollment["enrollmentId"])

    assert_problem(await client.patch(path, json=body, headers=bearer(token)), 400)
    assert (await client.get(path, headers=bearer(token))).json()["deviceName"] == "Phone"


async def test_a_rename_that_is_not_json_is_415(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token)

    response = await client.patch(
        item(enrollment["enrollmentId"]),
        content=b"deviceName=Phone",
        headers=bearer(token, **{"Content-Type": "application/x-www-form-urlencoded"}),
    )

    assert_problem(response, 415)


async def test_a_pending_enrollment_is_cancelled_without_a_step_up(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    enrollment = await enroll(client, token)
    path = item(enrollment["enrollmentId"])

    response = await client.delete(path, headers=bearer(token))

    assert response.status_code == 204, response.text
    assert_problem(await client.get(path, headers=bearer(token)), 404)
    assert (await client.get(ENROLLMENTS, headers=bearer(token))).json() == []


async def test_a_current_code_is_a_step_up_for_revoking(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    now = await settled_now()
    active = await activate(client, token, now)

    response = await client.delete(
        item(active.id), headers=with_code(token, active.app.code(now, 1))
    )

    assert response.status_code == 204, response.text
    assert_problem(await client.get(item(active.id), headers=bearer(token)), 404)
    assert_problem(await verify(client, token, code=active.app.code(now, 2)), 404)
    assert_problem(await client.delete(item(active.id), headers=bearer(token)), 404)


async def test_a_wrong_step_up_code_is_400_and_counted(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    now = await settled_now()
    active = await activate(client, token, now)

    response = await client.delete(
        item(active.id), headers=with_code(token, active.app.wrong_code(now))
    )

    assert assert_problem(response, 400)["attemptsRemaining"] == 4
    assert (await client.get(item(active.id), headers=bearer(token))).status_code == 200


@pytest.mark.parametrize("change", ["revoke", "regenerate recovery codes"])
async def test_a_step_up_code_while_locked_out_is_429(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, change: str
) -> None:
    token = mint_token(subject)
    now = await settled_now()
    active = await activate(client, token, now)
    for _ in range(5):
        assert_problem(await verify(client, token, code=active.app.wrong_code(now)), 400)
    headers = with_code(token, active.app.code(now, 1))

    if change == "revoke":
        response = await client.delete(item(active.id), headers=headers)
    else:
        response = await client.post(RECOVERY_CODES, headers=headers)

    assert_problem(response, 429, "too-many-attempts")
    assert int(response.headers["retry-after"]) > 0
    assert (await client.get(item(active.id), headers=bearer(token))).status_code == 200


async def test_a_wrong_step_up_code_for_new_recovery_codes_is_400_and_keeps_the_old_set(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    now = await settled_now()
    active = await activate(client, token, now)

    response = await client.post(
        RECOVERY_CODES, headers=with_code(token, active.app.wrong_code(now))
    )

    assert_problem(response, 400)
    assert (await verify(client, token, recoveryCode=active.recovery_codes[0])).status_code == 200


@pytest.mark.needs_control
@pytest.mark.parametrize(
    ("amr", "age_seconds"),
    [(["pwd"], 0), (["pwd", "otp"], 3600), (None, 0)],
    ids=["no second factor", "second factor an hour ago", "no amr"],
)
async def test_revoking_an_active_authenticator_needs_a_step_up(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
    amr: list[str] | None,
    age_seconds: int,
) -> None:
    weak = mint_token(subject, amr=amr, auth_time=int(time.time()) - age_seconds)
    active = await activate(client, weak, await settled_now())

    response = await client.delete(item(active.id), headers=bearer(weak))

    assert_step_up_required(response)
    assert response.json()["type"].endswith(":step-up-required")
    assert (await client.get(item(active.id), headers=bearer(weak))).status_code == 200


@pytest.mark.needs_control
async def test_a_recent_second_factor_sign_in_is_a_step_up(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    active = await activate(client, mint_token(subject), await settled_now())
    strong = mint_token(subject, amr=["pwd", "otp"], auth_time=int(time.time()))

    response = await client.delete(item(active.id), headers=bearer(strong))

    assert response.status_code == 204, response.text


async def test_recovery_code_status_counts_what_is_left(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    active = await activate(client, token, await settled_now())
    assert (await verify(client, token, recoveryCode=active.recovery_codes[0])).status_code == 200

    response = await client.get(RECOVERY_CODES, headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["remaining"] == 9
    assert response.json()["generatedAt"].endswith("Z")
    assert active.recovery_codes[1] not in response.text


async def test_regenerated_recovery_codes_replace_the_old_set(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    now = await settled_now()
    active = await activate(client, token, now)

    response = await client.post(RECOVERY_CODES, headers=with_code(token, active.app.code(now, 1)))

    assert response.status_code == 200, response.text
    assert_common_headers(response)
    fresh = response.json()["recoveryCodes"]
    assert len(set(fresh)) == 10 and not set(fresh) & set(active.recovery_codes)
    assert response.json()["generatedAt"].endswith("Z")
    assert_problem(await verify(client, token, recoveryCode=active.recovery_codes[0]), 400)
    assert (await verify(client, token, recoveryCode=fresh[0])).status_code == 200
    assert (await client.get(RECOVERY_CODES, headers=bearer(token))).json()["remaining"] == 9


@pytest.mark.needs_control
async def test_regenerating_recovery_codes_needs_a_step_up(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject, amr=["pwd"])
    active = await activate(client, token, await settled_now())

    response = await client.post(RECOVERY_CODES, headers=bearer(token))

    assert_step_up_required(response)
    assert (await verify(client, token, recoveryCode=active.recovery_codes[0])).status_code == 200


async def test_recovery_codes_without_an_authenticator_are_404(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    response = await client.post(RECOVERY_CODES, headers=bearer(mint_token(subject)))

    assert_problem(response, 404)


@pytest.mark.needs_injection
async def test_an_authenticator_being_replaced_works_until_the_new_one_is_confirmed(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, clock: Clock
) -> None:
    token = mint_token(subject)
    old = await activate(client, token, clock.now())
    clock.advance(old.app.period)
    started = await client.post(
        ENROLLMENTS, json={"mfaMethod": "totp"}, headers=with_code(token, old.app.code(clock.now()))
    )
    assert started.status_code == 200, started.text
    new = Authenticator.from_enrollment(started.json())
    new_id = started.json()["enrollmentId"]
    clock.advance(old.app.period)

    assert (await verify(client, token, code=old.app.code(clock.now()))).status_code == 200
    confirmed = await confirm(client, token, new_id, new.code(clock.now()))
    assert confirmed.status_code == 200, confirmed.text
    clock.advance(old.app.period)
    assert (await verify(client, token, code=new.code(clock.now()))).status_code == 200

    listed = (await client.get(ENROLLMENTS, headers=bearer(token))).json()
    assert [a["status"] for a in listed] == ["active", "active"]


@pytest.mark.needs_control
async def test_new_recovery_codes_are_never_shown_twice(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    await activate(client, mint_token(subject), await settled_now())
    strong = mint_token(subject, amr=["pwd", "otp"], auth_time=int(time.time()))
    headers = bearer(strong, **{"Idempotency-Key": str(uuid.uuid4())})

    first = await client.post(RECOVERY_CODES, headers=headers)
    again = await client.post(RECOVERY_CODES, headers=headers)

    assert first.status_code == 200, first.text
    assert_problem(again, 409, "answer-shown-once")
    assert not any(code in again.text for code in first.json()["recoveryCodes"])
