"""The admin API (API.md "Helpdesk and compliance") as the tests use it: paths, an agent's tokens,
and reading the audit trail. Speaks only HTTP."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from tests.contract.http.api import bearer
from tests.contract.http.harness import MintToken

ADMIN_SCOPE = "mfa-admin"
"""The admin scope of every target the suite configures (MFA_ADMIN_SCOPE)."""
CUSTOMER_SCOPE = "openid mfa"
AUDIT = "/admin/audit"
EXPORT = "/admin/audit/export"
NOTE = {"reason": "Customer lost their phone; identity checked by call-back", "ticket": "INC-42"}


def user_path(user_id: str) -> str:
    return f"/admin/users/{user_id}"


def factors(user_id: str) -> str:
    return f"{user_path(user_id)}/authenticators"


def new_agent() -> str:
    return f"agent-{uuid.uuid4()}"


def agent_token(mint_token: MintToken, agent: str, *, stepped_up: bool = True) -> str:
    """A helpdesk agent's token: the admin scope and, when ``stepped_up``, a sign-in a minute ago
    with a second factor (RFC 9470: ``auth_time`` and ``amr``)."""
    claims: dict[str, object] = {"scope": f"{CUSTOMER_SCOPE} {ADMIN_SCOPE}"}
    if stepped_up:
        claims.update(auth_time=int(time.time()) - 60, amr=["pwd", "otp"])
    return mint_token(agent, **claims)


async def delete_with(
    client: httpx.AsyncClient, path: str, token: str, body: object
) -> httpx.Response:
    """DELETE with a JSON body (the agent's reason)."""
    return await client.request("DELETE", path, json=body, headers=bearer(token))


async def audit_of(
    client: httpx.AsyncClient, token: str, **filters: str | int
) -> list[dict[str, Any]]:
    """Every event matching ``filters``, following the cursors to the last page."""
    events: list[dict[str, Any]] = []
    parameters: dict[str, str | int] = dict(filters)
    for _ in range(1000):
        response = await client.get(AUDIT, params=parameters, headers=bearer(token))
        assert response.status_code == 200, response.text
        page = response.json()
        events.extend(page["events"])
        if page["cursor"] is None:
            return events
        parameters["cursor"] = page["cursor"]
    raise AssertionError("the audit trail did not end within 1000 pages")
