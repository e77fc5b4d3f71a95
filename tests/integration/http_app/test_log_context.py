"""Every log line of a request carries its request id, trace and span ids, route template and the
pseudonymous user; the access line has its facts as fields (SECURITY.md "Logging")."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from entrypoints.composition import Overrides, create_app
from entrypoints.settings import Settings
from tests.contract.http.api import bearer
from tests.support.doubles import UnavailableCipher
from tests.support.in_process import serve_in_process
from tests.support.log_capture import LOG_USER_KEY, captured_logs, lines


@pytest.fixture
def adapter_set() -> str:
    """Embedded only: the log pipeline is the same on every adapter set."""
    return "embedded"


TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _pseudonym(user_id: str) -> str:
    return hmac.new(LOG_USER_KEY.encode(), user_id.encode(), hashlib.sha256).hexdigest()[:16]


def _access(parsed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in parsed if line.get("logger") == "mfa.access"]


async def test_the_access_line_has_fields_and_the_request_context(
    settings: Settings, overrides: Overrides, token_for: Callable[..., str]
) -> None:
    app = create_app(settings, replace(overrides, tracer_provider=TracerProvider(ALWAYS_OFF)))
    token = token_for("alice")
    with captured_logs() as logs:
        async with serve_in_process(app) as client:
            answered = await client.post(
                "/settings/MfaSecret",
                json={"mfaMethod": "totp"},
                headers={**bearer(token), "traceparent": TRACEPARENT},
            )
            shown = await client.get(
                f"/settings/MfaSecret/{answered.json()['enrollmentId']}", headers=bearer(token)
            )
            unmatched = await client.get("/no-such-route")

    assert [answered.status_code, shown.status_code, unmatched.status_code] == [200, 200, 404]
    post, get, missing = _access(lines(logs))
    assert post["message"] == "request"
    assert {k: post[k] for k in ("method", "route", "status", "bytes", "request_id")} == {
        "method": "POST",
        "route": "/settings/MfaSecret",
        "status": 200,
        "bytes": len(answered.content),
        "request_id": answered.headers["x-request-id"],
    }
    assert isinstance(post["duration_ms"], float)
    assert post["trace_id"] == TRACE_ID, "an incoming traceparent's trace continues"
    assert re.fullmatch(r"[0-9a-f]{16}", post["span_id"])
    assert post["user"] == _pseudonym("alice")
    assert get["route"] == "/settings/MfaSecret/{enrollment_id}"
    assert get["trace_id"] != TRACE_ID and re.fullmatch(r"[0-9a-f]{32}", get["trace_id"])
    assert (missing["route"], missing["status"]) == ("(unmatched)", 404)
    assert "user" not in missing, "no user is left over from an earlier request"
    assert "alice" not in logs.getvalue()
    assert answered.json()["enrollmentId"] not in logs.getvalue()


async def test_a_warning_during_a_request_carries_the_request_context(
    settings: Settings, overrides: Overrides, token_for: Callable[..., str]
) -> None:
    down = replace(
        overrides, cipher=UnavailableCipher(), tracer_provider=TracerProvider(ALWAYS_OFF)
    )
    with captured_logs() as logs:
        async with serve_in_process(create_app(settings, down)) as client:
            response = await client.post(
                "/settings/MfaSecret", json={"mfaMethod": "totp"}, headers=bearer(token_for("bob"))
            )

    assert response.status_code == 503
    parsed = lines(logs)
    warning = next(line for line in parsed if line["message"].startswith("dependency unavailable"))
    access = _access(parsed)[-1]
    assert warning["level"] == "warning"
    for field in ("request_id", "trace_id", "span_id", "route", "user"):
        assert warning[field] == access[field], field
    assert warning["request_id"] == response.headers["x-request-id"]
    assert warning["user"] == _pseudonym("bob")
