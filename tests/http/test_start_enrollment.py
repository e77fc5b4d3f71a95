"""POST /settings/MfaSecret through the real app (API.md "Enrollment", SECURITY.md H1-H2)."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest

from entrypoints.composition import Overrides
from tests.support.doubles import UnavailableCipher
from tests.support.in_process import serve_in_process

PATH = "/settings/MfaSecret"
JSON = {"Content-Type": "application/json"}
Client = httpx.AsyncClient


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= body.keys()
    return body


async def test_enrollment_returns_the_secret_uri_and_qr_code(
    client: Client, auth: dict[str, str]
) -> None:
    response = await client.post(
        PATH, json={"mfaMethod": "totp", "deviceName": "Alice's phone"}, headers=auth
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "enrollmentId", "mfaMethod", "status", "secret", "secretGroups", "otpauthUri",
        "qrCodeUrl", "algorithm", "digits", "period", "issuer", "accountName", "deviceName",
        "createdAt", "expiresAt", "supportedApps",
    }  # fmt: skip
    assert uuid.UUID(body["enrollmentId"])
    assert (body["mfaMethod"], body["status"]) == ("totp", "pending")
    assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
    assert body["secretGroups"].replace(" ", "") == body["secret"]
    assert body["otpauthUri"] == (
        f"otpauth://totp/Example%20Bank:alice?secret={body['secret']}&issuer=Example%20Bank"
        "&algorithm=SHA1&digits=6&period=30"
    )
    assert body["qrCodeUrl"].startswith("data:image/svg+xml;base64,")
    assert (body["algorithm"], body["digits"], body["period"]) == ("SHA1", 6, 30)
    assert (body["issuer"], body["accountName"], body["deviceName"]) == (
        "Example Bank", "alice", "Alice's phone",
    )  # fmt: skip
    created = datetime.fromisoformat(body["createdAt"])
    assert body["createdAt"].endswith("Z")
    assert datetime.fromisoformat(body["expiresAt"]) - created == timedelta(minutes=10)


async def test_secret_responses_are_never_cached(
    client: Client, auth: dict[str, str]
) -> None:  # H2
    response = await client.post(PATH, json={"mfaMethod": "totp"}, headers=auth)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_png_qr_code_on_request(client: Client, auth: dict[str, str]) -> None:
    response = await client.post(PATH, json={"mfaMethod": "totp", "qrFormat": "png"}, headers=auth)
    png = base64.b64decode(response.json()["qrCodeUrl"].removeprefix("data:image/png;base64,"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_returned_secret_generates_codes_that_match_the_uri(
    client: Client, auth: dict[str, str]
) -> None:
    body = (await client.post(PATH, json={"mfaMethod": "totp"}, headers=auth)).json()
    from_uri = pyotp.parse_uri(body["otpauthUri"])
    assert isinstance(from_uri, pyotp.TOTP)
    assert from_uri.now() == pyotp.TOTP(body["secret"]).now()


async def test_account_name_comes_from_the_token_when_it_has_one(
    client: Client, token_for: Callable[..., str]
) -> None:
    token = token_for("u-123", extra_claims={"preferred_username": "alice.smith"})
    response = await client.post(
        PATH, json={"mfaMethod": "totp"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.json()["accountName"] == "alice.smith"


async def test_two_calls_give_two_different_secrets(client: Client, auth: dict[str, str]) -> None:
    first = (await client.post(PATH, json={"mfaMethod": "totp"}, headers=auth)).json()
    second = (await client.post(PATH, json={"mfaMethod": "totp"}, headers=auth)).json()
    assert first["secret"] != second["secret"]
    assert first["enrollmentId"] != second["enrollmentId"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"mfaMethod": "sms"},
        {"mfaMethod": "TOTP"},
        {"mfaMethod": None},
        {"mfaMethod": 1},
        {"mfaMethod": ["totp"]},
        {"mfaMethod": "totp", "secret": "JBSWY3DPEHPK3PXP"},
        {"mfaMethod": "totp", "userId": "bob"},
        {"mfaMethod": "totp", "deviceName": ""},
        {"mfaMethod": "totp", "deviceName": "x" * 65},
        {"mfaMethod": "totp", "deviceName": "tab\there"},
        {"mfaMethod": "totp", "deviceName": 7},
        {"mfaMethod": "totp", "qrFormat": "gif"},
        [],
        "totp",
        None,
    ],
)
async def test_invalid_bodies_are_400_and_change_nothing(
    client: Client, auth: dict[str, str], body: object
) -> None:
    response = await client.post(PATH, content=json.dumps(body), headers={**auth, **JSON})
    problem = _problem(response, 400)
    assert "secret" not in problem


async def test_validation_errors_name_the_offending_field(
    client: Client, auth: dict[str, str]
) -> None:
    response = await client.post(PATH, json={"mfaMethod": "sms"}, headers=auth)
    assert [error["field"] for error in _problem(response, 400)["errors"]] == ["mfaMethod"]


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"mfaMethod": "totp",}',
        b'{"mfaMethod": "t\xffp"}',
        b"\xef\xbb\xbf\xff\xfe",
        b'{"mfaMethod": "totp", "x": ' + b"[" * 1500 + b"]" * 1500 + b"}",
        b"[" * 2000 + b"]" * 2000,
        b"",
        b"   ",
        b"NaN",
    ],
)
async def test_malformed_json_is_400_never_500(
    client: Client, auth: dict[str, str], raw: bytes
) -> None:  # H1
    _problem(await client.post(PATH, content=raw, headers={**auth, **JSON}), 400)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", ""],
)
async def test_bodies_that_are_not_json_are_415(
    client: Client, auth: dict[str, str], content_type: str
) -> None:  # H1
    response = await client.post(
        PATH, content=b'{"mfaMethod":"totp"}', headers={**auth, "Content-Type": content_type}
    )
    _problem(response, 415)


async def test_json_with_utf8_charset_is_accepted(client: Client, auth: dict[str, str]) -> None:
    response = await client.post(
        PATH,
        content=b'{"mfaMethod":"totp"}',
        headers={**auth, "Content-Type": "application/json; charset=UTF-8"},
    )
    assert response.status_code == 200


async def test_oversized_body_is_413(client: Client, auth: dict[str, str]) -> None:  # H1
    body = json.dumps({"mfaMethod": "totp", "deviceName": "x" * 8000}).encode()
    _problem(await client.post(PATH, content=body, headers={**auth, **JSON}), 413)


async def test_missing_token_is_401_with_the_bearer_challenge(client: Client) -> None:
    response = await client.post(PATH, json={"mfaMethod": "totp"})
    _problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="mfa-service"'


@pytest.mark.parametrize(
    "authorization",
    ["Basic YWxpY2U6cGFzc3dvcmQ=", "Bearer", "Bearer ", "Token abc"],
)
async def test_other_schemes_or_empty_bearer_are_401(client: Client, authorization: str) -> None:
    response = await client.post(
        PATH, json={"mfaMethod": "totp"}, headers={"Authorization": authorization}
    )
    _problem(response, 401)
    assert response.headers["www-authenticate"].startswith('Bearer realm="mfa-service"')


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "bob"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda mint: "not-a-jwt", id="garbage"),
        pytest.param(lambda mint: "a.b.c", id="three-garbage-segments"),
        pytest.param(lambda mint: mint() + "x", id="bad-signature"),
        pytest.param(lambda mint: _tamper(mint()), id="tampered-payload"),
        pytest.param(lambda mint: mint(now=int(time.time()) - 3600, ttl_seconds=60), id="expired"),
        pytest.param(lambda mint: mint(now=int(time.time()) + 3600), id="not-yet-valid"),
        pytest.param(lambda mint: mint(issuer_override="https://evil.example"), id="wrong-issuer"),
        pytest.param(lambda mint: mint(audience_override="another-api"), id="wrong-audience"),
    ],
)
async def test_bad_tokens_are_401_invalid_token(
    client: Client, bad_token_minter: Callable[..., str], make_token: Callable[..., str]
) -> None:
    response = await client.post(
        PATH,
        json={"mfaMethod": "totp"},
        headers={"Authorization": f"Bearer {make_token(bad_token_minter)}"},
    )
    _problem(response, 401)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_token_in_the_query_string_is_ignored(
    client: Client, token_for: Callable[..., str]
) -> None:
    response = await client.post(f"{PATH}?access_token={token_for()}", json={"mfaMethod": "totp"})
    _problem(response, 401)


async def test_authentication_comes_before_body_validation(client: Client) -> None:
    _problem(await client.post(PATH, content=b"{", headers=JSON), 401)


async def test_cipher_down_is_503_with_retry_after_and_no_secret(
    app_with: Callable[..., Any], overrides: Overrides, auth: dict[str, str]
) -> None:  # D1
    from dataclasses import replace

    app = app_with(replace(overrides, cipher=UnavailableCipher()))
    async with serve_in_process(app) as failing:
        response = await failing.post(PATH, json={"mfaMethod": "totp"}, headers=auth)
        body = _problem(response, 503)
        assert response.headers["retry-after"].isdigit()
        assert "secret" not in body and "otpauth" not in response.text


async def test_unexpected_error_is_500_with_a_correlation_id_only(
    app_with: Callable[..., Any], overrides: Overrides, auth: dict[str, str]
) -> None:
    from dataclasses import replace

    from tests.support.doubles import BrokenQrRenderer

    app = app_with(replace(overrides, qr_renderer=BrokenQrRenderer()))
    async with serve_in_process(app) as failing:
        response = await failing.post(PATH, json={"mfaMethod": "totp"}, headers=auth)
        body = _problem(response, 500)
        assert body["correlationId"] == response.headers["x-request-id"]
        assert "renderer crashed" not in response.text
        assert "Traceback" not in response.text


async def test_wrong_method_is_405_with_allow(client: Client, auth: dict[str, str]) -> None:  # H3
    response = await client.put(PATH, json={"mfaMethod": "totp"}, headers=auth)
    _problem(response, 405)
    assert "POST" in response.headers["allow"]


async def test_unknown_path_is_404_problem(client: Client, auth: dict[str, str]) -> None:
    _problem(await client.get("/nothing-here", headers=auth), 404)
