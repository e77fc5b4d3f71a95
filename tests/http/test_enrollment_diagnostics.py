"""Help for a customer whose first code fails, and the limits on starting enrollments."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pyotp
import pytest
from litestar import Litestar

from domain.policy import HashAlgorithm, TotpPolicy
from entrypoints.composition import Overrides
from tests.http.conftest import START
from tests.http.flows import code_for, confirm, enroll
from tests.support.in_process import serve_in_process


@pytest.fixture
def token(token_for: Callable[..., str]) -> str:
    return token_for("alice")


@pytest.mark.parametrize(("steps", "skew"), [(2, 60), (-3, -90), (10, 300)])
async def test_code_from_a_device_with_a_wrong_clock_is_refused_with_the_skew(
    client: httpx.AsyncClient, token: str, steps: int, skew: int
) -> None:
    enrollment = await enroll(client, token)
    response = await confirm(client, token, enrollment, code_for(enrollment, START, steps))
    assert response.status_code == 400
    body = response.json()
    assert body["type"].endswith(":device-clock-skew")
    assert body["estimatedSkewSeconds"] == skew
    assert body["attemptsRemaining"] == 4


async def test_code_eleven_steps_away_is_just_wrong(client: httpx.AsyncClient, token: str) -> None:
    enrollment = await enroll(client, token)
    response = await confirm(client, token, enrollment, code_for(enrollment, START, 11))
    assert response.json()["type"].endswith(":invalid-code")


async def test_app_that_ignored_the_parameters_is_named(
    app_with: Callable[..., Litestar], overrides: Overrides, token: str
) -> None:
    app = app_with(overrides, totp_policy=TotpPolicy(HashAlgorithm.SHA256, 8, 60))
    async with serve_in_process(app) as client:
        enrollment = await enroll(client, token)
        assert "Google Authenticator" not in enrollment["supportedApps"]
        ignoring_app = pyotp.TOTP(enrollment["secret"])  # SHA1 / 6 / 30, as such apps do
        response = await confirm(client, token, enrollment, ignoring_app.at(START))
        assert response.status_code == 400
        assert response.json()["type"].endswith(":authenticator-parameters-ignored")


async def test_default_policy_names_the_common_apps(client: httpx.AsyncClient, token: str) -> None:
    enrollment = await enroll(client, token)
    assert {"Google Authenticator", "Microsoft Authenticator", "Authy"} <= set(
        enrollment["supportedApps"]
    )


async def test_starting_enrollments_is_rate_limited_per_user(
    client: httpx.AsyncClient, token: str, token_for: Callable[..., str]
) -> None:
    for _ in range(10):
        await enroll(client, token)
    response = await client.post(
        "/settings/MfaSecret",
        json={"mfaMethod": "totp"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["type"].endswith(":too-many-enrollments")
    await enroll(client, token_for("bob"))
