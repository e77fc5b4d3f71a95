"""Managing authenticators (API.md "Managing authenticators"): list, read, rename, remove, several
per user, step-up (RFC 9470)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from adapters.memory.clock import FrozenClock
from tests.http.conftest import START
from tests.http.flows import Client, bearer, code_for, confirm, enroll, verify

FRESH = int(START.timestamp())


@pytest.fixture
def token(token_for: Callable[..., str]) -> str:
    return token_for("alice", auth_time=FRESH)


@pytest.fixture
def strong(token_for: Callable[..., str]) -> str:
    """A token from a sign-in with a second factor, just now."""
    return token_for("alice", auth_time=FRESH, amr=["pwd", "otp"])


async def _active(client: Client, token: str, at_step: int = 0, **fields: object) -> dict[str, Any]:
    enrollment = await enroll(client, token, **fields)
    response = await confirm(client, token, enrollment, code_for(enrollment, START, at_step))
    assert response.status_code == 200, response.text
    return enrollment


async def test_list_shows_metadata_only(client: Client, token: str, strong: str) -> None:
    active = await _active(client, token, deviceName="Work phone")
    pending = await enroll(client, strong, deviceName="New phone")
    response = await client.get("/settings/MfaSecret", headers=bearer(token))
    assert response.status_code == 200
    listed = response.json()
    assert [(a["id"], a["status"], a["deviceName"]) for a in listed] == [
        (active["enrollmentId"], "active", "Work phone"),
        (pending["enrollmentId"], "pending", "New phone"),
    ]
    assert set(listed[0]) == {
        "id", "method", "status", "deviceName", "createdAt", "activatedAt", "lastUsedAt",
        "algorithm", "digits", "period",
    }  # fmt: skip
    text = response.text
    for secret_bearing in (active["secret"], pending["secret"], "otpauth", "data:image"):
        assert secret_bearing not in text


async def test_users_see_and_touch_only_their_own(
    client: Client, token: str, token_for: Callable[..., str]
) -> None:
    enrollment = await _active(client, token)
    mallory = bearer(token_for("mallory", auth_time=FRESH, amr=["otp"]))
    path = f"/settings/MfaSecret/{enrollment['enrollmentId']}"
    assert (await client.get("/settings/MfaSecret", headers=mallory)).json() == []
    assert (await client.get(path, headers=mallory)).status_code == 404
    assert (await client.patch(path, json={"deviceName": "x"}, headers=mallory)).status_code == 404
    assert (await client.delete(path, headers=mallory)).status_code == 404
    assert (await client.get(path, headers=bearer(token))).json()["deviceName"] is None


async def test_rename(client: Client, token: str) -> None:
    enrollment = await _active(client, token)
    path = f"/settings/MfaSecret/{enrollment['enrollmentId']}"
    response = await client.patch(path, json={"deviceName": "Pixel 9"}, headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["deviceName"] == "Pixel 9"
    assert (await client.get(path, headers=bearer(token))).json()["deviceName"] == "Pixel 9"


@pytest.mark.parametrize("body", [{"deviceName": ""}, {"deviceName": "a\nb"}, {"name": "x"}, {}])
async def test_invalid_rename_changes_nothing(client: Client, token: str, body: object) -> None:
    enrollment = await _active(client, token, deviceName="Phone")
    path = f"/settings/MfaSecret/{enrollment['enrollmentId']}"
    assert (await client.patch(path, json=body, headers=bearer(token))).status_code == 400
    assert (await client.get(path, headers=bearer(token))).json()["deviceName"] == "Phone"


async def test_pending_enrollment_is_cancelled_freely(
    client: Client, token_for: Callable[..., str]
) -> None:
    stale = token_for("alice", auth_time=FRESH - 86400)
    enrollment = await enroll(client, stale)
    path = f"/settings/MfaSecret/{enrollment['enrollmentId']}"
    assert (await client.delete(path, headers=bearer(stale))).status_code == 204
    assert (await client.get(path, headers=bearer(stale))).status_code == 404


async def test_revoking_needs_a_recent_second_factor(
    client: Client, token: str, token_for: Callable[..., str]
) -> None:
    enrollment = await _active(client, token)
    path = f"/settings/MfaSecret/{enrollment['enrollmentId']}"
    for weak in (
        token,
        token_for("alice", auth_time=FRESH - 3600, amr=["otp"]),
        token_for("alice", amr=["otp"]),
    ):
        response = await client.delete(path, headers=bearer(weak))
        assert response.status_code == 401
        challenge = response.headers["www-authenticate"]
        assert 'error="insufficient_user_authentication"' in challenge
        assert "max_age=300" in challenge
        assert response.json()["type"].endswith(":step-up-required")
    assert (await client.get(path, headers=bearer(token))).status_code == 200


async def test_revoked_authenticator_no_longer_verifies(
    client: Client, token: str, strong: str, clock: FrozenClock
) -> None:
    enrollment = await _active(client, token)
    path = f"/settings/MfaSecret/{enrollment['enrollmentId']}"
    assert (await client.delete(path, headers=bearer(strong))).status_code == 204
    assert (await client.get(path, headers=bearer(token))).status_code == 404
    clock.advance(timedelta(seconds=30))
    response = await verify(client, token, code=code_for(enrollment, clock.now()))
    assert response.status_code == 404


async def test_a_current_code_is_a_step_up(client: Client, token: str, clock: FrozenClock) -> None:
    enrollment = await _active(client, token)
    path = f"/settings/MfaSecret/{enrollment['enrollmentId']}"
    clock.advance(timedelta(seconds=30))
    code = code_for(enrollment, clock.now())
    response = await client.delete(path, headers={**bearer(token), "X-MFA-Code": code})
    assert response.status_code == 204


async def test_a_wrong_code_is_no_step_up_and_counts_as_a_failure(
    client: Client, token: str
) -> None:
    enrollment = await _active(client, token)
    path = f"/settings/MfaSecret/{enrollment['enrollmentId']}"
    right = code_for(enrollment, START, 1)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    response = await client.delete(path, headers={**bearer(token), "X-MFA-Code": wrong})
    assert response.status_code == 400
    assert response.json()["attemptsRemaining"] == 4


async def test_adding_a_second_authenticator_needs_a_step_up(
    client: Client, token: str, strong: str
) -> None:
    await _active(client, token)
    response = await client.post(
        "/settings/MfaSecret", json={"mfaMethod": "totp"}, headers=bearer(token)
    )
    assert response.status_code == 401
    assert 'error="insufficient_user_authentication"' in response.headers["www-authenticate"]
    assert (await enroll(client, strong))["status"] == "pending"


async def test_rotation_keeps_the_old_authenticator_until_the_new_one_is_confirmed(
    client: Client, token: str, strong: str, clock: FrozenClock
) -> None:
    old = await _active(client, token)
    new = await enroll(client, strong)
    clock.advance(timedelta(seconds=30))
    assert (await verify(client, token, code=code_for(old, clock.now()))).status_code == 200
    assert (await confirm(client, strong, new, code_for(new, clock.now()))).status_code == 200
    clock.advance(timedelta(seconds=30))
    assert (await verify(client, token, code=code_for(new, clock.now()))).status_code == 200
    statuses = [
        a["status"] for a in (await client.get("/settings/MfaSecret", headers=bearer(token))).json()
    ]
    assert statuses == ["active", "active"]


async def test_the_sixth_authenticator_is_refused(
    client: Client, token: str, strong: str, clock: FrozenClock
) -> None:
    await _active(client, token)
    for _ in range(4):
        clock.advance(timedelta(seconds=30))
        enrollment = await enroll(client, strong)
        assert (
            await confirm(client, strong, enrollment, code_for(enrollment, clock.now()))
        ).status_code == 200
    response = await client.post(
        "/settings/MfaSecret", json={"mfaMethod": "totp"}, headers=bearer(strong)
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith(":too-many-authenticators")


async def test_regenerating_recovery_codes_needs_a_step_up(client: Client, token: str) -> None:
    await _active(client, token)
    response = await client.post("/settings/MfaSecret/recovery-codes", headers=bearer(token))
    assert response.status_code == 401
    assert "max_age=" in response.headers["www-authenticate"]
