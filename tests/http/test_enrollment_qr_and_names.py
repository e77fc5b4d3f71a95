"""Whatever names a token carries, an enrollment answers 200 with a QR code a phone reads (issue 18)."""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from domain.otpauth import MAX_URI_LENGTH

PATH = "/settings/MfaSecret"


async def _enroll(client: httpx.AsyncClient, token: str, **fields: Any) -> httpx.Response:
    return await client.post(
        PATH, json={"mfaMethod": "totp", **fields}, headers={"Authorization": f"Bearer {token}"}
    )


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("😀" * 64, None),
        ("alice\tsmith", "alice smith"),
        ("\u202eevil", "evil"),
        ("urn:bank:42", "urn_bank_42"),
        ("\u0000\u202e", "alice"),
    ],
)
async def test_any_display_name_claim_gives_an_enrollment(
    client: httpx.AsyncClient, token_for: Callable[..., str], name: str, shown: str | None
) -> None:
    response = await _enroll(client, token_for("alice", extra_claims={"preferred_username": name}))

    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["otpauthUri"]) <= MAX_URI_LENGTH
    if shown is not None:
        assert body["accountName"] == shown


@pytest.mark.parametrize("scale", [4, 9, 16])
async def test_the_png_has_the_scale_asked_for(
    client: httpx.AsyncClient, auth: dict[str, str], scale: int
) -> None:
    response = await client.post(
        PATH, json={"mfaMethod": "totp", "qrFormat": "png", "qrScale": scale}, headers=auth
    )

    assert response.status_code == 200, response.text
    png = base64.b64decode(response.json()["qrCodeUrl"].removeprefix("data:image/png;base64,"))
    width, height = struct.unpack(">II", png[16:24])
    assert width == height and width % scale == 0 and (width // scale - 8 - 17) % 4 == 0


async def test_the_svg_is_five_pixels_a_module_by_default(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.post(PATH, json={"mfaMethod": "totp"}, headers=auth)

    svg = base64.b64decode(response.json()["qrCodeUrl"].split(",", 1)[1]).decode()
    modules = int(svg.split('viewBox="0 0 ', 1)[1].split(" ", 1)[0])
    assert f'width="{modules * 5}" height="{modules * 5}"' in svg


@pytest.mark.parametrize("scale", [0, 3, 17, 4.5, None, "big"])
async def test_a_scale_outside_the_bounds_is_a_400_naming_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], scale: object
) -> None:
    response = await client.post(PATH, json={"mfaMethod": "totp", "qrScale": scale}, headers=auth)

    assert response.status_code == 400, response.text
    assert "qrScale" in response.text
