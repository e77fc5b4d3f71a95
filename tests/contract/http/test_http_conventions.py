"""What every answer of the service shares (API.md "Conventions" and "Operations"; README "The
contract"; SECURITY.md H1-H3): the headers on every response, problem+json, 405 with Allow, request
ids, CORS closed, health, and the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.contract.http.admin_api import AUDIT, agent_token, new_agent, user_path
from tests.contract.http.api import (
    ENROLLMENTS,
    RECOVERY_CODES,
    VERIFY,
    activate,
    assert_common_headers,
    assert_problem,
    bearer,
    enroll,
    item,
    verify,
    with_code,
)
from tests.contract.http.harness import MintToken
from tests.contract.http.totp import settled_now

Request = Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]
"""Sends one kind of request for a fresh subject's token."""


async def _enrolled(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(token))


async def _listed(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(ENROLLMENTS, headers=bearer(token))


async def _invalid(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(ENROLLMENTS, json={"mfaMethod": "sms"}, headers=bearer(token))


async def _not_json(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(ENROLLMENTS, content=b"totp", headers=bearer(token))


async def _too_large(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(ENROLLMENTS, json={"x": "x" * 70_000}, headers=bearer(token))


async def _unknown_enrollment(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(item("00000000-0000-4000-8000-000000000000"), headers=bearer(token))


async def _no_authenticator(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(VERIFY, json={"code": "123456"}, headers=bearer(token))


async def _recovery_status(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(RECOVERY_CODES, headers=bearer(token))


async def _live(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/health/live")


async def _ready(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/health/ready")


async def _openapi(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/schema/openapi.json")


async def _no_token(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(ENROLLMENTS)


async def _bad_token(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(ENROLLMENTS, headers=bearer(token + "x"))


async def _unknown_path(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/settings/nothing-here", headers=bearer(token))


async def _wrong_method(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.put(ENROLLMENTS, headers=bearer(token))


ANSWERS_OF_THE_HANDLERS: dict[str, tuple[Request, int]] = {
    "enrollment": (_enrolled, 200),
    "list": (_listed, 200),
    "invalid body": (_invalid, 400),
    "not JSON": (_not_json, 415),
    "too large": (_too_large, 413),
    "unknown enrollment": (_unknown_enrollment, 404),
    "no authenticator": (_no_authenticator, 404),
    "recovery code status": (_recovery_status, 200),
    "liveness": (_live, 200),
    "readiness": (_ready, 200),
    "OpenAPI document": (_openapi, 200),
}

ANSWERS_BEFORE_THE_HANDLERS: dict[str, tuple[Request, int]] = {
    "no token": (_no_token, 401),
    "bad token": (_bad_token, 401),
    "unknown path": (_unknown_path, 404),
    "wrong method": (_wrong_method, 405),
}


@pytest.mark.parametrize("kind", ANSWERS_OF_THE_HANDLERS)
async def test_every_answer_is_no_store_nosniff_with_a_request_id(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, kind: str
) -> None:
    send, status = ANSWERS_OF_THE_HANDLERS[kind]

    response = await send(client, mint_token(subject))

    assert response.status_code == status, response.text
    assert_common_headers(response)
    assert response.headers.get("x-request-id")


@pytest.mark.parametrize("kind", ANSWERS_BEFORE_THE_HANDLERS)
async def test_answers_from_authentication_and_routing_carry_the_same_headers(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, kind: str
) -> None:
    send, status = ANSWERS_BEFORE_THE_HANDLERS[kind]

    response = await send(client, mint_token(subject))

    assert response.status_code == status, response.text
    assert_common_headers(response)
    assert response.headers.get("x-request-id")


@pytest.mark.parametrize("kind", [*ANSWERS_OF_THE_HANDLERS, *ANSWERS_BEFORE_THE_HANDLERS])
async def test_errors_are_rfc_9457_problems(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, kind: str
) -> None:
    send, status = {**ANSWERS_OF_THE_HANDLERS, **ANSWERS_BEFORE_THE_HANDLERS}[kind]

    response = await send(client, mint_token(subject))

    if status >= 400:
        problem = assert_problem(response, status)
        assert problem["type"].startswith("urn:mfa-service:problem:")
        assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", ENROLLMENTS, {"GET", "POST"}),
        ("DELETE", ENROLLMENTS, {"GET", "POST"}),
        ("GET", VERIFY, {"POST"}),
        ("DELETE", VERIFY, {"POST"}),
        ("POST", "/health/live", {"GET"}),
        ("PUT", item("00000000-0000-4000-8000-000000000000"), {"GET", "PATCH", "DELETE"}),
        ("DELETE", RECOVERY_CODES, {"GET", "POST"}),
    ],
)
async def test_a_wrong_method_is_405_with_allow(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
    method: str,
    path: str,
    allowed: set[str],
) -> None:
    response = await client.request(method, path, headers=bearer(mint_token(subject)))

    assert_problem(response, 405)
    advertised = {m.strip() for m in response.headers["allow"].split(",")}
    assert advertised - {"OPTIONS", "HEAD"} == allowed


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (ENROLLMENTS, {"GET", "POST"}),
        (RECOVERY_CODES, {"GET", "POST"}),
        (item("00000000-0000-4000-8000-000000000000"), {"GET", "PATCH", "DELETE"}),
    ],
)
async def test_options_lists_every_method_of_the_resource(
    client: httpx.AsyncClient, path: str, allowed: set[str]
) -> None:
    response = await client.options(path)

    advertised = {m.strip() for m in response.headers["allow"].split(",")}
    assert advertised - {"OPTIONS", "HEAD"} == allowed


JSON_ENDPOINTS = [
    ("POST", ENROLLMENTS),
    ("POST", "/settings/MfaSecret/00000000-0000-4000-8000-000000000000/verification"),
    ("POST", VERIFY),
    ("PATCH", item("00000000-0000-4000-8000-000000000000")),
]
BAD_BODIES = {
    "not JSON (415)": (b'{"code": "123456"}', "text/plain", 415),
    "over the limit (413)": (b'{"code": "' + b"1" * 70_000 + b'"}', "application/json", 413),
    "malformed (400)": (b'{"code": ', "application/json", 400),
    "invalid UTF-8 (400)": (b'{"code": "\xff\xfe"}', "application/json", 400),
    "deeply nested (400)": (b"[" * 4000, "application/json", 400),
}


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
@pytest.mark.parametrize("kind", BAD_BODIES)
async def test_every_endpoint_with_a_body_refuses_bad_bodies_before_anything_else(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
    method: str,
    path: str,
    kind: str,
) -> None:
    content, content_type, status = BAD_BODIES[kind]

    response = await client.request(
        method,
        path,
        content=content,
        headers=bearer(mint_token(subject), **{"Content-Type": content_type}),
    )

    assert_problem(response, status)


WRITES_WITHOUT_A_BODY = {("POST", RECOVERY_CODES), ("DELETE", f"{ENROLLMENTS}/{{enrollment_id}}")}
"""The writes whose request takes no body (outside test: a bad body was ignored, and the request
regenerated recovery codes or revoked an authenticator)."""

BAD_BODIES_WHERE_NONE_IS_TAKEN = {
    **BAD_BODIES,
    "a field (400)": (b'{"reason": "lost phone"}', "application/json", 400),
    "not an object (400)": (b"null", "application/json", 400),
}


async def test_the_writes_without_a_body_are_the_ones_tested_here(
    client: httpx.AsyncClient,
) -> None:
    """Every POST, PUT, PATCH or DELETE of the OpenAPI document without a request body: a new one
    must join ``WRITES_WITHOUT_A_BODY``."""
    document = (await client.get("/schema/openapi.json")).json()
    writes = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in {"post", "put", "patch", "delete"} and "requestBody" not in operation
    }
    assert writes == WRITES_WITHOUT_A_BODY


@pytest.mark.parametrize("kind", BAD_BODIES_WHERE_NONE_IS_TAKEN)
async def test_a_write_that_takes_no_body_refuses_a_bad_one_and_changes_nothing(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, kind: str
) -> None:
    content, content_type, status = BAD_BODIES_WHERE_NONE_IS_TAKEN[kind]
    token = mint_token(subject)
    now = await settled_now()
    active = await activate(client, token, now)
    codes = (await client.get(RECOVERY_CODES, headers=bearer(token))).json()
    step_up = {**with_code(token, active.app.code(now, 1)), "Content-Type": content_type}

    for method, path in (("POST", RECOVERY_CODES), ("DELETE", item(active.id))):
        response = await client.request(method, path, content=content, headers=step_up)
        assert_problem(response, status)

    assert (await client.get(RECOVERY_CODES, headers=bearer(token))).json() == codes
    listed = (await client.get(ENROLLMENTS, headers=bearer(token))).json()
    assert [authenticator["id"] for authenticator in listed] == [active.id]


async def test_a_write_that_takes_no_body_admits_an_empty_object(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    """(Without a body, as every other test sends them.)"""
    token = mint_token(subject)
    now = await settled_now()
    active = await activate(client, token, now)
    other = mint_token(f"{subject}-other")
    pending = await enroll(client, other)

    regenerated = await client.post(
        RECOVERY_CODES, json={}, headers=with_code(token, active.app.code(now, 1))
    )
    cancelled = await client.request(
        "DELETE", item(pending["enrollmentId"]), json={}, headers=bearer(other)
    )

    assert regenerated.status_code == 200, regenerated.text
    assert cancelled.status_code == 204, cancelled.text


async def test_a_well_formed_request_id_is_kept_and_another_replaced(
    client: httpx.AsyncClient,
) -> None:
    kept = await client.get("/health/live", headers={"X-Request-Id": "gateway-1234.abcd"})
    replaced = await client.get("/health/live", headers={"X-Request-Id": "bad id\twith spaces"})
    fresh = [(await client.get("/health/live")).headers["x-request-id"] for _ in range(2)]

    assert kept.headers["x-request-id"] == "gateway-1234.abcd"
    assert replaced.headers["x-request-id"] not in ("", "bad id\twith spaces")
    assert fresh[0] != fresh[1]


async def test_cors_stays_closed_when_no_origin_is_configured(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    origin = {"Origin": "https://attacker.example"}
    preflight = await client.options(
        ENROLLMENTS,
        headers={**origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"},
    )  # fmt: skip
    simple = await client.get(ENROLLMENTS, headers={**origin, **bearer(mint_token(subject))})

    for response in (preflight, simple):
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-credentials" not in response.headers


async def test_liveness_and_readiness_need_no_token(client: httpx.AsyncClient) -> None:
    live = await client.get("/health/live")
    ready = await client.get("/health/ready")

    assert live.status_code == 200 and live.json()["status"] == "ok"
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"
    assert set(ready.json().get("checks", {}).values()) <= {"ok"}


async def test_metrics_are_served_in_prometheus_text_format(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE " in response.text


OPERATIONS = {
    ENROLLMENTS: {"get", "post"},
    "/settings/MfaSecret/{enrollment_id}": {"get", "patch", "delete"},
    "/settings/MfaSecret/{enrollment_id}/verification": {"post"},
    RECOVERY_CODES: {"get", "post"},
    VERIFY: {"post"},
    "/health/live": {"get"},
    "/health/ready": {"get"},
}


async def test_the_openapi_document_describes_every_operation(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")

    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    assert set(OPERATIONS) <= set(paths)
    for path, methods in OPERATIONS.items():
        assert set(paths[path]) - {"parameters"} == methods, path
        for method in methods:
            operation = paths[path][method]
            secured = not path.startswith("/health/")
            assert ("security" in operation) is secured, (method, path)
            if secured:
                assert {"401", "500", "503"} <= set(operation["responses"]), (method, path)
            if method in {"post", "put", "patch", "delete"}:  # the body check answers these
                assert {"400", "413", "415"} <= set(operation["responses"]), (method, path)
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


async def test_every_documented_error_answer_is_problem_json(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()

    undocumented = [
        (method, path, status)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method != "parameters"
        for status, answer in operation["responses"].items()
        if int(status) >= 400
        and set(answer.get("content", {})) != {"application/problem+json"}
        and path != "/health/ready"  # its 503 is the health report, with each check's state
    ]
    assert undocumented == []


async def test_the_openapi_document_lists_readiness_503(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()

    assert "503" in document["paths"]["/health/ready"]["get"]["responses"]


@pytest.mark.needs_injection
async def test_readiness_is_503_with_retry_after_when_a_dependency_is_down(
    unready_client: httpx.AsyncClient,
) -> None:
    response = await unready_client.get("/health/ready")

    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert response.json()["status"] == "unavailable"
    assert "unavailable" in response.json()["checks"].values()
    assert (await unready_client.get("/health/live")).status_code == 200


async def test_the_openapi_viewer_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


async def test_the_openapi_document_describes_enrollment_truthfully(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"][ENROLLMENTS]["post"]
    schemas = document["components"]["schemas"]

    assert set(operation["responses"]) == {
        "200", "400", "401", "403", "404", "409", "410", "413", "415", "422", "429", "500", "503"
    }  # fmt: skip
    request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    body = schemas[request_schema["$ref"].rsplit("/", 1)[-1]]
    assert body["required"] == ["mfaMethod"]
    assert body["additionalProperties"] is False
    assert set(body["properties"]) == {"mfaMethod", "deviceName", "qrFormat", "qrScale"}
    response_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    answer = schemas[response_schema["$ref"].rsplit("/", 1)[-1]]
    assert {"secret", "otpauthUri", "qrCodeUrl", "enrollmentId"} <= set(answer["required"])
    assert operation["security"] == [{"BearerToken": []}]
    headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
    assert headers == {"Idempotency-Key"}
    assert "security" not in document["paths"]["/health/live"]["get"]


@pytest.mark.needs_control  # an agent's token
async def test_a_query_parameter_the_operation_does_not_document_is_400_and_changes_nothing(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    customer = mint_token(subject)
    active = await activate(client, customer, await settled_now())
    agent = agent_token(mint_token, new_agent())
    document = (await client.get("/schema/openapi.json")).json()
    values = {"enrollment_id": active.id, "user_id": subject}
    sent = 0
    for template, operations in document["paths"].items():
        path = re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], template)
        token = agent if template.startswith("/admin/") else customer
        for method in sorted(operations.keys() & {"get", "post", "put", "patch", "delete"}):
            response = await client.request(
                method.upper(), path, params={"unexpected": "1"}, headers=bearer(token)
            )
            problem = assert_problem(response, 400)
            assert [error["field"] for error in problem["errors"]] == ["unexpected"], (method, path)
            sent += 1

    assert sent > 15
    listed = (await client.get(ENROLLMENTS, headers=bearer(customer))).json()
    assert [(a["id"], a["status"]) for a in listed] == [(active.id, "active")]


JSON = {"Content-Type": "application/json"}


@pytest.mark.needs_control  # an agent's token
async def test_every_invalid_request_names_the_offending_field(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    customer = mint_token(subject)
    active = await activate(client, customer, await settled_now())
    agent = agent_token(mint_token, new_agent())
    unlock = f"{user_path(subject)}/unlock"
    cases: list[tuple[str, str, str, dict[str, object]]] = [
        ("code", "POST", VERIFY, {"json": {"code": "1234567"}, "headers": bearer(customer)}),
        ("recoveryCode", "POST", VERIFY, {"json": {"recoveryCode": "AB"}, "headers": bearer(customer)}),
        ("X-MFA-Code", "DELETE", item(active.id), {"headers": with_code(customer, "12")}),
        ("Idempotency-Key", "POST", ENROLLMENTS, {
            "json": {"mfaMethod": "totp"},
            "headers": bearer(customer, **{"Idempotency-Key": "has space"}),
        }),
        ("reason", "POST", unlock, {"json": {"reason": "line\nbreak"}, "headers": bearer(agent)}),
        ("ticket", "POST", unlock, {"json": {"reason": "ok", "ticket": ""}, "headers": bearer(agent)}),
        ("since", "GET", AUDIT, {
            "params": {"since": "2026-11-30T12:00:00Z", "until": "2026-11-30T11:00:00Z"},
            "headers": bearer(agent),
        }),
        ("until", "GET", AUDIT, {"params": {"until": "2026-11-30T11:00:00"}, "headers": bearer(agent)}),
        ("cursor", "GET", AUDIT, {"params": {"cursor": "not-a-cursor"}, "headers": bearer(agent)}),
        ("userId", "GET", AUDIT, {"params": {"userId": ""}, "headers": bearer(agent)}),
        ("limit", "GET", AUDIT, {"params": {"limit": "00002"}, "headers": bearer(agent)}),
        ("Idempotency-Key", "POST", ENROLLMENTS, {
            "json": {"mfaMethod": "totp"},
            "headers": bearer(customer, **{"Idempotency-Key": "k" * 256}),
        }),
        ("body", "POST", VERIFY, {"content": b"{bad", "headers": bearer(customer, **JSON)}),
        ("body", "POST", VERIFY, {"headers": bearer(customer)}),
        ("body", "DELETE", user_path(subject), {"headers": bearer(agent)}),
    ]  # fmt: skip

    for field, method, path, sent in cases:
        response = await client.request(method, path, **sent)  # type: ignore[arg-type]

        problem = assert_problem(response, 400)
        assert [error["field"] for error in problem.get("errors", [])] == [field], problem
    listed = (await client.get(ENROLLMENTS, headers=bearer(customer))).json()
    assert [(a["id"], a["status"]) for a in listed] == [(active.id, "active")]


async def test_a_header_that_may_come_once_and_came_twice_is_400_and_changes_nothing(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    now = await settled_now()
    active = await activate(client, token, now)
    auth = ("Authorization", f"Bearer {token}")
    json_type = ("Content-Type", "application/json")

    two_keys = await client.post(
        ENROLLMENTS,
        content=b'{"mfaMethod": "totp"}',
        headers=[auth, json_type, ("Idempotency-Key", "k1"), ("Idempotency-Key", "k2")],
    )
    two_codes = await client.delete(
        item(active.id),
        headers=[auth, ("X-MFA-Code", active.app.code(now, 1)), ("X-MFA-Code", "000000")],
    )
    two_types = await client.post(
        VERIFY,
        content=b'{"code": "000000"}',
        headers=[auth, json_type, ("Content-Type", "text/plain")],
    )
    zipped = await client.post(
        VERIFY,
        content=b'{"code": "000000"}',
        headers=[auth, json_type, ("Content-Encoding", "gzip")],
    )

    for response, field in ((two_keys, "Idempotency-Key"), (two_codes, "X-MFA-Code")):
        problem = assert_problem(response, 400)
        assert [error["field"] for error in problem["errors"]] == [field], problem
    # Over HTTP the service sees both Content-Types (400); a test client that joins repeated
    # headers sends "application/json, text/plain", which is no JSON (415).
    assert two_types.status_code in (400, 415)
    assert_problem(two_types, two_types.status_code)
    assert_problem(zipped, 415)
    listed = (await client.get(ENROLLMENTS, headers=bearer(token))).json()
    assert [(a["id"], a["status"]) for a in listed] == [(active.id, "active")]
    wrong = await verify(client, token, code=active.app.wrong_code(now))
    assert assert_problem(wrong, 400)["attemptsRemaining"] == 4  # nothing was counted before
