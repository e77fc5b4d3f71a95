"""The service's HTTP API as the contract describes it (docs/API.md), for the tests: paths,
requests, and the checks every answer must pass. Speaks only HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.contract.http.totp import Authenticator

ENROLLMENTS = "/settings/MfaSecret"
RECOVERY_CODES = "/settings/MfaSecret/recovery-codes"
VERIFY = "/mfa/verify"
PROBLEM_JSON = "application/problem+json"
REALM = 'realm="mfa-service"'


def item(enrollment_id: str) -> str:
    return f"{ENROLLMENTS}/{enrollment_id}"


def verification(enrollment_id: str) -> str:
    return f"{ENROLLMENTS}/{enrollment_id}/verification"


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def with_code(token: str, code: str) -> dict[str, str]:
    """A current code as the step-up for a sensitive change (``X-MFA-Code``)."""
    return bearer(token, **{"X-MFA-Code": code})


def assert_common_headers(response: httpx.Response) -> None:
    """API.md conventions, on every response."""
    assert response.headers.get("cache-control") == "no-store", response.headers
    assert response.headers.get("pragma") == "no-cache", response.headers
    assert response.headers.get("x-content-type-options") == "nosniff", response.headers


def assert_problem(
    response: httpx.Response, status: int, slug: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem with ``status`` (and ``type`` ending in ``:slug``); returns its body.
    The headers every response needs are checked by test_http_conventions.py, per kind of answer."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    problem: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(problem), problem
    assert problem["status"] == status
    for name in ("type", "title", "detail"):
        assert isinstance(problem[name], str) and problem[name], problem
    if slug is not None:
        assert problem["type"].endswith(f":{slug}"), problem
    return problem


def assert_invalid_token(response: httpx.Response) -> None:
    """401 with ``WWW-Authenticate: Bearer realm=…, error="invalid_token"`` (RFC 6750 section 3)."""
    assert_problem(response, 401)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and REALM in challenge, challenge
    assert 'error="invalid_token"' in challenge, challenge


def assert_unauthenticated(response: httpx.Response) -> None:
    """401 without an error code: no credentials were sent (RFC 6750 section 3.1)."""
    assert_problem(response, 401)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and REALM in challenge, challenge
    assert "error=" not in challenge, challenge


def assert_step_up_required(response: httpx.Response) -> None:
    """401 with ``error="insufficient_user_authentication"`` and ``max_age`` (RFC 9470 section 3)."""
    assert_problem(response, 401)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and REALM in challenge, challenge
    assert 'error="insufficient_user_authentication"' in challenge, challenge
    assert "max_age=" in challenge, challenge


def assert_retry_after(response: httpx.Response) -> int:
    value = response.headers["retry-after"]
    assert value.isdigit() and int(value) > 0, value
    return int(value)


async def enroll(client: httpx.AsyncClient, token: str, **fields: object) -> dict[str, Any]:
    """POST /settings/MfaSecret, which must succeed; the pending enrollment with its secret."""
    response = await client.post(
        ENROLLMENTS, json={"mfaMethod": "totp", **fields}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def confirm(
    client: httpx.AsyncClient, token: str, enrollment_id: str, code: object
) -> httpx.Response:
    return await client.post(
        verification(enrollment_id), json={"code": code}, headers=bearer(token)
    )


async def verify(client: httpx.AsyncClient, token: str, **body: object) -> httpx.Response:
    return await client.post(VERIFY, json=body, headers=bearer(token))


@dataclass(frozen=True)
class Active:
    """A confirmed authenticator: the enrollment's answer, the app that scanned it, the recovery
    codes shown at confirmation, and the time step its confirmation used up."""

    enrollment: dict[str, Any]
    app: Authenticator
    recovery_codes: list[str]
    confirmed_at: float

    @property
    def id(self) -> str:
        return str(self.enrollment["enrollmentId"])


async def activate(
    client: httpx.AsyncClient,
    token: str,
    at: float,
    headers: dict[str, str] | None = None,
    **fields: object,
) -> Active:
    """Enrolls and confirms with the code of ``at``'s step. ``headers`` go with the enrollment
    (a step-up, when the user has an active authenticator already)."""
    response = await client.post(
        ENROLLMENTS, json={"mfaMethod": "totp", **fields}, headers=headers or bearer(token)
    )
    assert response.status_code == 200, response.text
    enrollment: dict[str, Any] = response.json()
    app = Authenticator.from_enrollment(enrollment)
    confirmed = await confirm(client, token, enrollment["enrollmentId"], app.code(at))
    assert confirmed.status_code == 200, confirmed.text
    return Active(enrollment, app, confirmed.json().get("recoveryCodes") or [], at)
