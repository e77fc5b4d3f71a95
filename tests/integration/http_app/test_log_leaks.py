"""What the service's real logging pipeline (structlog, JSON lines) writes holds no secret, URI, QR
code or token, on success and on a 500 with its traceback. The contract suite checks the records of
every test; these read the rendered lines. Embedded only: the pipeline is the same on every set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from litestar import Litestar

from entrypoints.composition import Overrides
from tests.contract.http.api import ENROLLMENTS, bearer
from tests.support.doubles import BrokenQrRenderer
from tests.support.in_process import Client, serve_in_process
from tests.support.log_capture import captured_logs


@pytest.fixture
def adapter_set() -> str:
    """Embedded only: the log pipeline is the same on every adapter set."""
    return "embedded"


@pytest.mark.parametrize("qr_format", ["svg", "png"])
async def test_no_log_line_holds_the_secret_uri_qr_code_or_token(
    client: Client, token_for: Callable[..., str], qr_format: str
) -> None:
    token = token_for()
    with captured_logs() as logs:
        response = await client.post(
            ENROLLMENTS, json={"mfaMethod": "totp", "qrFormat": qr_format}, headers=bearer(token)
        )
        await client.post(ENROLLMENTS, json={"mfaMethod": "sms"}, headers=bearer(f"{token}x"))

    body: dict[str, Any] = response.json()
    _assert_clean(
        logs.getvalue(), [token, body["secret"], body["otpauthUri"], body["qrCodeUrl"][30:90]]
    )


async def test_the_lines_of_an_unexpected_error_hold_no_token(
    app_with: Callable[..., Litestar], overrides: Overrides, token_for: Callable[..., str]
) -> None:
    token = token_for()
    app = app_with(replace(overrides, qr_renderer=BrokenQrRenderer()))
    with captured_logs() as logs:
        async with serve_in_process(app) as client:
            response = await client.post(
                ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(token)
            )

    assert response.status_code == 500
    assert "unexpected error" in logs.getvalue()
    _assert_clean(logs.getvalue(), [token, token.split(".")[2]])


def _assert_clean(rendered: str, forbidden: list[str]) -> None:
    assert rendered, "the request should have been logged"
    for value in forbidden:
        assert value not in rendered
