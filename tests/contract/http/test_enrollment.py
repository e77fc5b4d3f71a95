"""POST /settings/MfaSecret: create a pending authenticator-app secret (API.md "Enrollment";
SECURITY.md S1, H1, H2)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import struct
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.contract.http.api import (
    ENROLLMENTS,
    activate,
    assert_common_headers,
    assert_invalid_token,
    assert_problem,
    assert_retry_after,
    assert_step_up_required,
    assert_unauthenticated,
    bearer,
    confirm,
    enroll,
    verify,
    with_code,
)
from tests.contract.http.harness import MintToken
from tests.contract.http.totp import Authenticator, settled_now

BASE32_160_BITS = re.compile(r"[A-Z2-7]{32}")


def _timestamp(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text[:-1] + "+00:00")


async def test_enrollment_returns_a_pending_secret_with_its_uri_and_qr_code(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    response = await client.post(
        ENROLLMENTS,
        json={"mfaMethod": "totp", "deviceName": "Alice's phone"},
        headers=bearer(mint_token(subject)),
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert_common_headers(response)
    body = response.json()
    assert (body["mfaMethod"], body["status"], body["deviceName"]) == (
        "totp",
        "pending",
        "Alice's phone",
    )
    assert uuid.UUID(body["enrollmentId"])
    assert BASE32_160_BITS.fullmatch(body["secret"]), "160 bits of base32, no padding (S1)"
    assert body["secretGroups"].split() == re.findall(".{4}", body["secret"])
    assert body["algorithm"] in {"SHA1", "SHA256", "SHA512"}
    assert body["digits"] in {6, 7, 8}
    assert body["period"] > 0
    assert body["issuer"] and body["accountName"]
    assert ":" not in body["issuer"] + body["accountName"]
    assert _timestamp(body["createdAt"]) < _timestamp(body["expiresAt"])
    label = f"{quote(body['issuer'], safe='')}:{quote(body['accountName'], safe='')}"
    assert body["otpauthUri"].startswith(f"otpauth://totp/{label}?")
    Authenticator.from_enrollment(body)  # the URI carries this very secret and parameters
    prefix = "data:image/svg+xml;base64,"
    assert body["qrCodeUrl"].startswith(prefix)
    assert b"<svg" in base64.b64decode(body["qrCodeUrl"][len(prefix) :])


async def test_a_png_qr_code_is_given_on_request(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    body = await enroll(client, mint_token(subject), qrFormat="png")

    prefix = "data:image/png;base64,"
    assert body["qrCodeUrl"].startswith(prefix)
    assert base64.b64decode(body["qrCodeUrl"][len(prefix) :]).startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.needs_control
async def test_the_account_name_is_the_tokens_preferred_username_else_its_subject(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    named = await enroll(client, mint_token(subject, preferred_username="alice@example.com"))
    unnamed = await enroll(client, mint_token(f"{subject}:2"))

    assert named["accountName"] == "alice@example.com"
    assert "alice%40example.com?" in named["otpauthUri"]
    assert unnamed["accountName"] == f"{subject}_2", "':' is not allowed in the label"


async def test_every_enrollment_gets_a_fresh_secret(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    secrets = {
        (await enroll(client, mint_token(user)))["secret"]
        for user in (subject, subject, f"{subject}-other")
    }

    assert len(secrets) == 3


async def test_a_new_enrollment_replaces_the_pending_one_whose_secret_stops_working(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    first = await enroll(client, token)
    second = await enroll(client, token)

    listed = (await client.get(ENROLLMENTS, headers=bearer(token))).json()
    assert [(a["id"], a["status"]) for a in listed] == [(second["enrollmentId"], "pending")]
    code = Authenticator.from_enrollment(first).code(await settled_now())
    assert_problem(await confirm(client, token, first["enrollmentId"], code), 404)


@pytest.mark.parametrize(
    ("body", "slug", "field"),
    [
        pytest.param({}, "invalid-request", None, id="mfaMethod missing"),
        pytest.param({"mfaMethod": "sms"}, "invalid-request", "mfaMethod", id="unknown method"),
        pytest.param({"mfaMethod": "TOTP"}, "invalid-request", "mfaMethod", id="method case"),
        pytest.param({"mfaMethod": 1}, "invalid-request", "mfaMethod", id="method type"),
        pytest.param({"mfaMethod": None}, "invalid-request", "mfaMethod", id="method null"),
        pytest.param({"mfaMethod": ["totp"]}, "invalid-request", "mfaMethod", id="method array"),
        pytest.param(
            {"mfaMethod": "totp", "secret": "JBSWY3DPEHPK3PXP"},
            "invalid-request",
            None,
            id="client-chosen secret",
        ),
        pytest.param(
            {"mfaMethod": "totp", "userId": "bob"}, "invalid-request", None, id="client-chosen user"
        ),
        pytest.param({"mfaMethod": "totp", "deviceName": ""}, "invalid-request", "deviceName"),
        pytest.param(
            {"mfaMethod": "totp", "deviceName": "x" * 65}, "invalid-request", "deviceName"
        ),
        pytest.param({"mfaMethod": "totp", "deviceName": 7}, "invalid-request", "deviceName"),
        pytest.param({"mfaMethod": "totp", "deviceName": "a\nb"}, "invalid-request", None),
        pytest.param({"mfaMethod": "totp", "deviceName": "a\tb"}, "invalid-request", None),
        pytest.param({"mfaMethod": "totp", "deviceName": "a\u202eb"}, "invalid-request", None),
        pytest.param({"mfaMethod": "totp", "deviceName": "\u3164"}, "invalid-request", None),
        pytest.param({"mfaMethod": "totp", "qrFormat": "gif"}, "invalid-request", "qrFormat"),
        pytest.param(None, "invalid-request", None, id="null"),
        pytest.param([{"mfaMethod": "totp"}], "invalid-request", None, id="array"),
        pytest.param([], "invalid-request", None, id="empty array"),
        pytest.param("totp", "invalid-request", None, id="string"),
    ],
)
async def test_an_invalid_body_is_400_and_names_the_field(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
    body: object,
    slug: str,
    field: str | None,
) -> None:
    token = mint_token(subject)
    response = await client.post(
        ENROLLMENTS,
        content=json.dumps(body),
        headers=bearer(token, **{"Content-Type": "application/json"}),
    )

    problem = assert_problem(response, 400, slug)
    if field is not None:
        assert field in [error["field"] for error in problem["errors"]], problem
    assert (await client.get(ENROLLMENTS, headers=bearer(token))).json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "mfaMethod"),
        ({"mfaMethod": "totp", "secret": "JBSWY3DPEHPK3PXP"}, "secret"),
        ({"mfaMethod": "sms"}, "mfaMethod"),
    ],
    ids=["missing", "unknown", "unknown value"],
)
async def test_a_missing_or_unknown_field_is_named_in_the_problem(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, body: object, field: str
) -> None:
    response = await client.post(ENROLLMENTS, json=body, headers=bearer(mint_token(subject)))

    problem = assert_problem(response, 400)
    assert [error["field"] for error in problem["errors"]] == [field]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{", id="not JSON"),
        pytest.param(b'{"mfaMethod": "totp"', id="truncated"),
        pytest.param(b'{"mfaMethod": "\xff"}', id="invalid UTF-8"),
        pytest.param(b"[" * 4000, id="deep nesting"),
        pytest.param(b"", id="empty"),
        pytest.param(b'{"mfaMethod": "totp"} {}', id="trailing data"),
        pytest.param(b'{"mfaMethod": "totp",}', id="trailing comma"),
        pytest.param(b"\xef\xbb\xbf\xff\xfe", id="BOM and invalid UTF-8"),
        pytest.param(
            b'{"mfaMethod": "totp", "x": ' + b"[" * 1500 + b"]" * 1500 + b"}",
            id="deep nesting in a field",
        ),
        pytest.param(b"[" * 2000 + b"]" * 2000, id="deep balanced nesting"),
        pytest.param(b"   ", id="white space"),
        pytest.param(b"NaN", id="NaN"),
    ],
)
async def test_a_malformed_body_is_400(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, content: bytes
) -> None:
    response = await client.post(
        ENROLLMENTS,
        content=content,
        headers=bearer(mint_token(subject), **{"Content-Type": "application/json"}),
    )

    assert_problem(response, 400)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
        "application/jsonx",
        "",
    ],
)
async def test_a_body_that_is_not_json_is_415(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, content_type: str | None
) -> None:
    headers = bearer(mint_token(subject))
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = await client.post(ENROLLMENTS, content=b'{"mfaMethod": "totp"}', headers=headers)

    assert_problem(response, 415)


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "application/json; charset=UTF-8", "Application/JSON"],
)
async def test_json_with_or_without_charset_is_accepted(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, content_type: str
) -> None:
    response = await client.post(
        ENROLLMENTS,
        content=b'{"mfaMethod": "totp"}',
        headers=bearer(mint_token(subject), **{"Content-Type": content_type}),
    )

    assert response.status_code == 200, response.text


async def test_a_body_over_the_size_limit_is_413(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    response = await client.post(
        ENROLLMENTS,
        json={"mfaMethod": "totp", "deviceName": "x" * 70_000},
        headers=bearer(mint_token(subject)),
    )

    assert_problem(response, 413)


async def test_without_a_token_enrollment_is_401_with_a_bearer_challenge(
    client: httpx.AsyncClient,
) -> None:
    assert_unauthenticated(await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}))


@pytest.mark.parametrize("authorization", ["Basic YWxpY2U6c2VjcmV0", "Digest x", "Token abc"])
async def test_another_authentication_scheme_is_401_with_a_bearer_challenge(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.post(
        ENROLLMENTS, json={"mfaMethod": "totp"}, headers={"Authorization": authorization}
    )

    assert_unauthenticated(response)


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer a b", "Bearer ünïcode", "Bearer\tabc"])
async def test_a_malformed_bearer_header_is_401(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.post(
        ENROLLMENTS,
        json={"mfaMethod": "totp"},
        headers=[(b"Authorization", authorization.encode("utf-8"))],
    )

    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer ")


@pytest.mark.needs_control
async def test_a_token_without_the_required_scope_is_403_insufficient_scope(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    response = await client.post(
        ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(mint_token(subject, scope="openid"))
    )

    assert_problem(response, 403)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'error="insufficient_scope"' in challenge


async def test_too_many_enrollments_in_an_hour_are_429_with_retry_after(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    statuses: list[int] = []
    response = None
    for _ in range(50):
        response = await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(token))
        statuses.append(response.status_code)
        if response.status_code != 200:
            break

    assert response is not None and statuses[:-1] == [200] * (len(statuses) - 1)
    problem = assert_problem(response, 429, "too-many-enrollments")
    assert "secret" not in problem
    assert assert_retry_after(response) > 0
    assert (await enroll(client, mint_token(f"{subject}-other")))["status"] == "pending"


async def test_a_sixth_authenticator_is_refused_with_409(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    now = await settled_now()
    active = await activate(client, token, now)
    for _ in range(4):
        # Each new one needs a step-up: the next code of the one confirmed last (X-MFA-Code).
        active = await activate(
            client, token, now, headers=with_code(token, active.app.code(now, 1))
        )

    response = await client.post(
        ENROLLMENTS,
        json={"mfaMethod": "totp"},
        headers=with_code(token, active.app.code(now, 1)),
    )

    assert_problem(response, 409, "too-many-authenticators")
    listed = (await client.get(ENROLLMENTS, headers=bearer(token))).json()
    assert [a["status"] for a in listed] == ["active"] * 5


async def test_adding_an_authenticator_while_one_is_active_takes_a_current_code(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    now = await settled_now()
    first = await activate(client, token, now)

    second = await activate(client, token, now, headers=with_code(token, first.app.code(now, 1)))

    assert second.recovery_codes == [], "recovery codes are shown only when the user had none"
    listed = (await client.get(ENROLLMENTS, headers=bearer(token))).json()
    assert [a["id"] for a in listed] == [first.id, second.id]


@pytest.mark.needs_control
async def test_adding_an_authenticator_while_one_is_active_needs_a_step_up(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject, amr=["pwd"])
    await activate(client, token, await settled_now())

    response = await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(token))

    assert_step_up_required(response)
    strong = mint_token(subject, amr=["pwd", "otp"])
    assert (await enroll(client, strong))["status"] == "pending"


@pytest.mark.needs_control
async def test_a_retried_start_shows_a_second_authenticators_secret_only_with_a_step_up(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    weak = mint_token(subject, amr=["pwd"])
    strong = mint_token(subject, amr=["pwd", "otp"])
    await activate(client, weak, await settled_now())
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await client.post(
        ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(strong, **key)
    )

    retried = await client.post(
        ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(weak, **key)
    )

    assert first.status_code == 200, first.text
    assert_step_up_required(retried)
    assert first.json()["secret"] not in retried.text
    again = await client.post(
        ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(strong, **key)
    )
    assert again.json()["secret"] == first.json()["secret"]


@pytest.mark.needs_control
async def test_a_retried_start_stepped_up_by_a_code_asks_for_a_step_up_and_counts_nothing(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    weak = mint_token(subject, amr=["pwd"])
    now = await settled_now()
    active = await activate(client, weak, now)
    headers = {**with_code(weak, active.app.code(now, 1)), "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=headers)

    retries = [
        await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=headers)
        for _ in range(6)
    ]

    assert first.status_code == 200, first.text
    for retried in retries:
        assert_step_up_required(retried)
        assert first.json()["secret"] not in retried.text
    not_locked = await verify(client, weak, recoveryCode=active.recovery_codes[0])
    assert not_locked.status_code == 200, not_locked.text


async def test_concurrent_enrollments_leave_one_pending_and_never_fail_otherwise(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)

    responses = await asyncio.gather(
        *(
            client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(token))
            for _ in range(8)
        )
    )

    assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses]
    winners = [r.json()["enrollmentId"] for r in responses if r.status_code == 200]
    for lost in (r for r in responses if r.status_code == 409):
        assert_problem(lost, 409)
    listed = (await client.get(ENROLLMENTS, headers=bearer(token))).json()
    assert len(listed) == 1 and listed[0]["id"] in winners


@pytest.mark.needs_injection
async def test_an_unexpected_error_is_500_with_a_correlation_id_and_nothing_else(
    crashing_client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    response = await crashing_client.post(
        ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(mint_token(subject))
    )

    problem = assert_problem(response, 500)
    assert set(problem) == {"type", "title", "status", "detail", "correlationId"}
    assert problem["correlationId"] == response.headers["x-request-id"]
    assert "crashed" not in response.text and "Traceback" not in response.text


async def test_the_same_idempotency_key_and_body_returns_the_same_enrollment(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    headers = bearer(token, **{"Idempotency-Key": str(uuid.uuid4())})
    body: dict[str, Any] = {"mfaMethod": "totp", "deviceName": "Phone"}

    first = await client.post(ENROLLMENTS, json=body, headers=headers)
    again = await client.post(ENROLLMENTS, json=body, headers=headers)

    assert first.status_code == again.status_code == 200
    assert first.json()["enrollmentId"] == again.json()["enrollmentId"]
    assert first.json()["secret"] == again.json()["secret"]
    assert first.json() == again.json()
    assert len((await client.get(ENROLLMENTS, headers=bearer(token))).json()) == 1


async def test_a_retry_of_a_start_replaced_since_is_404_and_starts_nothing(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    headers = bearer(token, **{"Idempotency-Key": str(uuid.uuid4())})
    first = await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=headers)
    replacing = await enroll(client, token)

    again = await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=headers)

    assert first.status_code == 200
    assert_problem(again, 404)
    listed = (await client.get(ENROLLMENTS, headers=bearer(token))).json()
    assert [a["id"] for a in listed] == [replacing["enrollmentId"]]


async def test_a_retry_of_a_start_confirmed_since_is_409_without_the_secret(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    headers = bearer(token, **{"Idempotency-Key": str(uuid.uuid4())})
    first = (await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=headers)).json()
    now = await settled_now()
    confirmed = await confirm(
        client, token, first["enrollmentId"], Authenticator.from_enrollment(first).code(now)
    )

    again = await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=headers)

    assert confirmed.status_code == 200, confirmed.text
    assert_problem(again, 409)
    assert first["secret"] not in again.text


async def test_the_same_idempotency_key_with_another_body_is_422(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    headers = bearer(mint_token(subject), **{"Idempotency-Key": str(uuid.uuid4())})

    first = await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=headers)
    other = await client.post(
        ENROLLMENTS, json={"mfaMethod": "totp", "deviceName": "Other"}, headers=headers
    )

    assert first.status_code == 200
    assert_problem(other, 422, "idempotency-key-reused")


async def test_a_garbage_token_is_401_invalid_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer("not.a.token")
    )

    assert_invalid_token(response)


ANSWER_FIELDS = {
    "enrollmentId", "mfaMethod", "status", "secret", "secretGroups", "otpauthUri", "qrCodeUrl",
    "algorithm", "digits", "period", "issuer", "accountName", "deviceName", "createdAt",
    "expiresAt", "supportedApps",
}  # fmt: skip
"""API.md "Enrollment": the fields of the answer, no more."""


async def test_the_answer_holds_exactly_the_documented_fields(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    body = await enroll(client, mint_token(subject), deviceName="Phone")

    assert set(body) == ANSWER_FIELDS
    assert all(isinstance(name, str) and name for name in body["supportedApps"])


async def test_without_a_token_a_malformed_body_is_401_not_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        ENROLLMENTS, content=b"{", headers={"Content-Type": "application/json"}
    )

    assert_unauthenticated(response)


@pytest.mark.needs_injection
async def test_a_key_service_outage_is_503_with_retry_after_and_no_secret(
    key_service_down_client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    response = await key_service_down_client.post(
        ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(mint_token(subject))
    )

    problem = assert_problem(response, 503)
    assert_retry_after(response)
    assert "secret" not in problem and "otpauth" not in response.text


# --- names and QR codes (issue 18) ---------------------------------------------------------------

SUBJECT = "the token's subject"
"""Where the account name falls back to the subject: the display name has nothing printable."""

LONGEST_URI = 213
"""The service's bound on an otpauth URI (domain/otpauth.py), so that its QR code stays one that a
phone reads from a screen."""


@pytest.mark.needs_control
@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("😀" * 64, None),
        ("alice\tsmith", "alice smith"),
        ("\u202eevil", "evil"),
        ("urn:bank:42", "urn_bank_42"),
        ("\u0000\u202e", SUBJECT),
    ],
    ids=["long emoji", "tab", "bidi override", "colons", "nothing printable"],
)
async def test_any_display_name_claim_gives_an_enrollment_a_phone_can_scan(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, name: str, shown: str | None
) -> None:
    response = await client.post(
        ENROLLMENTS,
        json={"mfaMethod": "totp"},
        headers=bearer(mint_token(subject, preferred_username=name)),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["otpauthUri"]) <= LONGEST_URI
    if shown is not None:
        assert body["accountName"] == (subject if shown is SUBJECT else shown)


@pytest.mark.parametrize("scale", [4, 9, 16])
async def test_the_png_has_the_scale_asked_for(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, scale: int
) -> None:
    body = await enroll(client, mint_token(subject), qrFormat="png", qrScale=scale)

    png = base64.b64decode(body["qrCodeUrl"].removeprefix("data:image/png;base64,"))
    width, height = struct.unpack(">II", png[16:24])
    assert width == height and width % scale == 0 and (width // scale - 8 - 17) % 4 == 0


async def test_the_svg_is_five_pixels_a_module_by_default(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    body = await enroll(client, mint_token(subject))

    svg = base64.b64decode(body["qrCodeUrl"].split(",", 1)[1]).decode()
    modules = int(svg.split('viewBox="0 0 ', 1)[1].split(" ", 1)[0])
    assert f'width="{modules * 5}" height="{modules * 5}"' in svg


@pytest.mark.parametrize("scale", [0, 3, 17, 4.5, None, "big", "16", 16.0, "1e1", True])
async def test_a_scale_outside_the_bounds_is_400_naming_the_field(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, scale: object
) -> None:
    response = await client.post(
        ENROLLMENTS,
        json={"mfaMethod": "totp", "qrScale": scale},
        headers=bearer(mint_token(subject)),
    )

    problem = assert_problem(response, 400)
    assert "qrScale" in response.text, problem


# --- Idempotency-Key (API.md "Conventions") ------------------------------------------------------


async def test_another_idempotency_key_starts_another_enrollment(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    answers = [
        await client.post(
            ENROLLMENTS,
            json={"mfaMethod": "totp"},
            headers=bearer(token, **{"Idempotency-Key": str(uuid.uuid4())}),
        )
        for _ in range(2)
    ]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].json()["secret"] != answers[1].json()["secret"]


async def test_idempotency_keys_are_per_user(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    mine = await client.post(
        ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(mint_token(subject), **key)
    )
    theirs = await client.post(
        ENROLLMENTS,
        json={"mfaMethod": "totp"},
        headers=bearer(mint_token(f"{subject}-other"), **key),
    )

    assert (mine.status_code, theirs.status_code) == (200, 200), theirs.text
    assert theirs.json()["enrollmentId"] != mine.json()["enrollmentId"]


@pytest.mark.parametrize("key", ["", "x" * 256, "bad key", "tab\tkey"])
async def test_a_malformed_idempotency_key_is_400(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, key: str
) -> None:
    response = await client.post(
        ENROLLMENTS,
        json={"mfaMethod": "totp"},
        headers=bearer(mint_token(subject), **{"Idempotency-Key": key}),
    )

    assert_problem(response, 400)


@pytest.mark.needs_injection
async def test_a_request_that_failed_frees_its_idempotency_key_for_the_retry(
    client: httpx.AsyncClient,
    key_service_down_client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
) -> None:
    headers = bearer(mint_token(subject), **{"Idempotency-Key": str(uuid.uuid4())})

    failed = await key_service_down_client.post(
        ENROLLMENTS, json={"mfaMethod": "totp"}, headers=headers
    )
    retried = await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=headers)

    assert_problem(failed, 503)
    assert retried.status_code == 200, retried.text
