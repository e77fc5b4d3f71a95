"""A header the request may carry once, sent twice, is refused by name before anything runs (over
HTTP the app sees both copies; some test clients join them into one)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from entrypoints.http.request_checks import SINGLE_HEADERS


@pytest.fixture
def adapter_set() -> str:
    """Embedded only: the headers are checked before any adapter runs."""
    return "embedded"


@pytest.mark.parametrize("name", sorted(SINGLE_HEADERS.values()))
async def test_a_header_given_twice_is_400_naming_it(
    client: httpx.AsyncClient, token_for: Callable[..., str], name: str
) -> None:
    headers = [
        ("Authorization", f"Bearer {token_for('alice')}"),
        ("Content-Type", "application/json"),
        (name, "identity" if name == "Content-Encoding" else "application/json"),
        (name, "identity" if name == "Content-Encoding" else "application/json"),
    ]

    response = await client.post(
        "/settings/MfaSecret", content=b'{"mfaMethod": "totp"}', headers=headers
    )

    assert response.status_code == 400, response.text
    assert response.json()["errors"] == [{"field": name, "message": "given more than once"}]
    assert (await client.get("/settings/MfaSecret", headers=headers[:1])).json() == []
