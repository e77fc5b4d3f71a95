"""Steps of the user's journey, through HTTP, for the tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pyotp

Client = httpx.AsyncClient


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def enroll(client: Client, token: str, **fields: object) -> dict[str, Any]:
    response = await client.post(
        "/settings/MfaSecret", json={"mfaMethod": "totp", **fields}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def code_for(enrollment: dict[str, Any], at: datetime, steps: int = 0) -> str:
    """The code an app shows ``steps`` time steps after ``at``, from the URI the service returned."""
    totp = pyotp.parse_uri(enrollment["otpauthUri"])
    assert isinstance(totp, pyotp.TOTP)
    return totp.at(at.timestamp() + steps * totp.interval)


async def confirm(client: Client, token: str, enrollment: dict[str, Any], code: object) -> Any:
    return await client.post(
        f"/settings/MfaSecret/{enrollment['enrollmentId']}/verification",
        json={"code": code},
        headers=bearer(token),
    )


async def verify(client: Client, token: str, **body: object) -> Any:
    return await client.post("/mfa/verify", json=body, headers=bearer(token))
