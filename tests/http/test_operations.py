"""Health, the OpenAPI document, and what reaches the logs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from litestar import Litestar

from application.errors import DependencyUnavailable
from entrypoints.composition import Overrides
from tests.support.doubles import BrokenQrRenderer
from tests.support.in_process import serve_in_process
from tests.support.log_capture import captured_logs

Client = httpx.AsyncClient


class DownProbe:
    name = "database"

    async def check(self) -> None:
        raise DependencyUnavailable("database")


async def test_liveness_needs_no_token(client: Client) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readiness_checks_the_database(client: Client, adapter_set: str) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    if adapter_set == "sqlite":
        assert response.json()["checks"] == {"database": "ok"}


async def test_readiness_is_503_when_a_dependency_is_down(
    app_with: Callable[..., Litestar], overrides: Overrides
) -> None:
    app = app_with(replace(overrides, readiness_probes=(DownProbe(),)))
    async with serve_in_process(app) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert response.json() == {"status": "unavailable", "checks": {"database": "unavailable"}}


async def test_openapi_document_describes_the_endpoint_truthfully(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/settings/MfaSecret"]["post"]
    assert set(operation["responses"]) == {
        "200", "400", "401", "403", "409", "410", "413", "415", "422", "429", "500", "503"
    }  # fmt: skip
    for status in ("400", "401", "503"):
        assert "application/problem+json" in operation["responses"][status]["content"]
    request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    schemas = document["components"]["schemas"]
    body = schemas[request_schema["$ref"].rsplit("/", 1)[-1]]
    assert body["required"] == ["mfaMethod"]
    assert body["additionalProperties"] is False
    assert set(body["properties"]) == {"mfaMethod", "deviceName", "qrFormat", "qrScale"}
    response_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    response_body = schemas[response_schema["$ref"].rsplit("/", 1)[-1]]
    assert {"secret", "otpauthUri", "qrCodeUrl", "enrollmentId"} <= set(response_body["required"])
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert operation["security"] == [{"BearerToken": []}]
    headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
    assert headers == {"Idempotency-Key"}
    assert "security" not in document["paths"]["/health/live"]["get"]


async def test_openapi_viewer_is_served(client: Client) -> None:
    response = await client.get("/schema")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


@pytest.mark.parametrize("qr_format", ["svg", "png"])
async def test_no_log_record_holds_the_secret_uri_or_token(
    client: Client,
    token_for: Callable[..., str],
    qr_format: str,
) -> None:
    token = token_for()
    with captured_logs() as logs:
        response = await client.post(
            "/settings/MfaSecret",
            json={"mfaMethod": "totp", "qrFormat": qr_format},
            headers={"Authorization": f"Bearer {token}"},
        )
        await client.post(
            "/settings/MfaSecret",
            json={"mfaMethod": "sms"},
            headers={"Authorization": f"Bearer {token}x"},
        )
    body: dict[str, Any] = response.json()
    _assert_clean(
        logs.getvalue(), [token, body["secret"], body["otpauthUri"], body["qrCodeUrl"][30:90]]
    )


async def test_error_logs_hold_no_token(
    app_with: Callable[..., Litestar],
    overrides: Overrides,
    token_for: Callable[..., str],
) -> None:
    token = token_for()
    app = app_with(replace(overrides, qr_renderer=BrokenQrRenderer()))
    with captured_logs() as logs:
        async with serve_in_process(app) as client:
            response = await client.post(
                "/settings/MfaSecret",
                json={"mfaMethod": "totp"},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert response.status_code == 500
    assert "unexpected error" in logs.getvalue()
    _assert_clean(logs.getvalue(), [token, token.split(".")[2]])


def _assert_clean(rendered: str, forbidden: list[str]) -> None:
    assert rendered, "the request should have been logged"
    for value in forbidden:
        assert value not in rendered
