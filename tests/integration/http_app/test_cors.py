"""CORS with a front end configured (MFA_CORS_ORIGINS): what a preflight may ask, what a script may
read, and a refusal answered as problem+json."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar

from tests.contract.http.api import bearer
from tests.support.in_process import serve_in_process

FRONT_END = "https://online.bank.example"


@pytest.fixture
def adapter_set() -> str:
    """Embedded only: CORS is answered before any adapter runs."""
    return "embedded"


def _words(value: str) -> set[str]:
    return {word.strip().lower() for word in value.split(",") if word.strip()}


async def test_a_preflight_from_the_front_end_may_send_what_the_api_uses(
    app_with: Callable[..., Litestar],
) -> None:
    async with serve_in_process(app_with(cors_origins=(FRONT_END,))) as client:
        response = await client.options(
            "/settings/MfaSecret",
            headers={
                "Origin": FRONT_END,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, idempotency-key, "
                "x-mfa-code",
            },
        )

    assert response.status_code == 204, response.text
    assert response.headers["access-control-allow-origin"] == FRONT_END
    assert _words(response.headers["access-control-allow-methods"]) == {
        "delete", "get", "head", "patch", "post"
    }  # fmt: skip
    assert {"authorization", "idempotency-key", "x-mfa-code"} <= _words(
        response.headers["access-control-allow-headers"]
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        {"Origin": FRONT_END, "Access-Control-Request-Method": "PUT"},
        {
            "Origin": FRONT_END,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-evil",
        },
    ],
    ids=["other origin", "method no route has", "header the api does not read"],
)
async def test_a_refused_preflight_is_a_problem_json_400_without_allow_origin(
    app_with: Callable[..., Litestar], headers: dict[str, str]
) -> None:
    async with serve_in_process(app_with(cors_origins=(FRONT_END,))) as client:
        response = await client.options("/settings/MfaSecret", headers=headers)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:mfa-service:problem:cors-refused"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers.get("access-control-allow-origin") != "https://evil.example"
    assert response.headers["cache-control"] == "no-store"


async def test_a_script_of_the_front_end_may_read_the_step_up_lockout_and_request_id_headers(
    app_with: Callable[..., Litestar], token_for: Callable[..., str]
) -> None:
    async with serve_in_process(app_with(cors_origins=(FRONT_END,))) as client:
        response = await client.post(
            "/mfa/verify",
            json={"code": "123456"},
            headers={"Origin": FRONT_END, **bearer(token_for("alice"))},
        )

    assert response.headers["access-control-allow-origin"] == FRONT_END
    assert _words(response.headers["access-control-expose-headers"]) >= {
        "retry-after", "www-authenticate", "x-request-id"
    }  # fmt: skip
