"""The audit trail for compliance (API.md "Helpdesk and compliance"): filters, newest first, an
opaque cursor stable under concurrent inserts, a bounded page, and a JSON Lines export."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.contract.http.admin_api import AUDIT, EXPORT, agent_token, audit_of, new_agent
from tests.contract.http.api import activate, assert_common_headers, assert_problem, bearer, verify
from tests.contract.http.harness import MintToken
from tests.contract.http.totp import settled_now

pytestmark = pytest.mark.needs_control  # an agent's claims are chosen by the suite


async def _customer_with_failures(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, failures: int
) -> None:
    customer = mint_token(subject)
    now = await settled_now()
    active = await activate(client, customer, now)
    for _ in range(failures):
        assert (await verify(client, customer, code=active.app.wrong_code(now))).status_code == 400


def _order(event: dict[str, object]) -> tuple[str, int]:
    return str(event["occurredAt"]), int(str(event["id"]))


async def test_pages_come_newest_first_and_concurrent_inserts_shift_none(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    await _customer_with_failures(client, mint_token, subject, 3)
    token = agent_token(mint_token, new_agent())
    everything = await audit_of(client, token, userId=subject)
    assert [e["action"] for e in everything][:3] == ["code.rejected"] * 3
    assert [e["action"] for e in everything][-1] == "enrollment.started"
    assert [_order(e) for e in everything] == sorted(map(_order, everything), reverse=True)

    first = await client.get(AUDIT, params={"userId": subject, "limit": 2}, headers=bearer(token))
    assert first.status_code == 200, first.text
    assert_common_headers(first)
    page = first.json()
    # New events of the same user arrive between the pages.
    customer = mint_token(subject)
    await asyncio.gather(*(verify(client, customer, code="000000") for _ in range(2)))
    seen = list(page["events"])
    while page["cursor"] is not None:
        response = await client.get(
            AUDIT,
            params={"userId": subject, "limit": 2, "cursor": page["cursor"]},
            headers=bearer(token),
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["events"]) <= 2
        seen.extend(page["events"])
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)), ids  # nothing twice
    assert [_order(e) for e in seen] == sorted(map(_order, seen), reverse=True)
    assert {e["id"] for e in everything} <= set(ids)  # nothing skipped
    assert max(ids) == ids[0]  # nothing of what came after the first page


async def test_filters_by_action_actor_and_time_range(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    await _customer_with_failures(client, mint_token, subject, 2)
    agent = new_agent()
    token = agent_token(mint_token, agent)

    rejected = await audit_of(client, token, userId=subject, action="code.rejected")
    assert [e["action"] for e in rejected] == ["code.rejected"] * 2
    assert {e["userId"] for e in rejected} == {subject}
    own = await audit_of(client, token, actor=subject)
    assert own and {e["actor"] for e in own} == {subject}
    by_agent = await audit_of(client, token, actor=agent)
    assert by_agent and {e["action"] for e in by_agent} == {"admin.audit_read"}
    newest = datetime.fromisoformat(rejected[0]["occurredAt"])
    until_newest = await audit_of(
        client,
        token,
        userId=subject,
        action="code.rejected",
        until=newest.isoformat(),
        since=(newest - timedelta(hours=1)).isoformat(),
    )
    assert [e["id"] for e in until_newest] == [
        e["id"] for e in rejected if datetime.fromisoformat(e["occurredAt"]) < newest
    ]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await audit_of(client, token, userId=subject, since=future) == []


async def test_the_export_streams_json_lines_of_the_same_events(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    await _customer_with_failures(client, mint_token, subject, 2)
    agent = new_agent()
    token = agent_token(mint_token, agent)
    listed = await audit_of(client, token, userId=subject)

    async with client.stream(
        "GET", EXPORT, params={"userId": subject}, headers=bearer(token)
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/jsonl")
        assert_common_headers(response)
        lines = [line async for line in response.aiter_lines() if line]

    exported = [json.loads(line) for line in lines]
    # The listing's own reading is audited, under the user: it comes first in the export.
    assert exported[0]["action"] == "admin.audit_read"
    assert exported[1:] == listed
    reads = await audit_of(client, token, actor=agent, action="admin.audit_exported")
    assert [e["userId"] for e in reads] == [subject]


@pytest.mark.parametrize(
    "parameters",
    [
        pytest.param({"cursor": "not-a-cursor"}, id="malformed cursor"),
        pytest.param({"cursor": "YTEuMS4y" + "x" * 80}, id="over-long cursor"),
        pytest.param({"cursor": "YjEuMS4y"}, id="foreign cursor"),
        pytest.param(
            {"since": "2026-11-29T12:00:00Z", "until": "2026-11-29T11:00:00Z"},
            id="time range the wrong way round",
        ),
        pytest.param({"since": "2026-11-29T12:00:00"}, id="time without offset"),
        pytest.param({"since": "yesterday"}, id="not a time"),
        pytest.param({"since": "0001-01-01T00:00:00+01:00"}, id="before year 1 in UTC"),
        pytest.param({"until": "9999-12-31T23:59:59-01:00"}, id="after year 9999 in UTC"),
        pytest.param({"limit": "201"}, id="page over the bound"),
        pytest.param({"limit": "0"}, id="empty page"),
        pytest.param({"action": "user.teleported"}, id="unknown action"),
        pytest.param({"limit": "1e1"}, id="limit in exponent notation"),
        pytest.param({"limit": "10.0"}, id="limit with a fraction"),
        pytest.param({"limit": " 10"}, id="limit with a space"),
        pytest.param(httpx.QueryParams([("userId", "a"), ("userId", "b")]), id="a filter twice"),
        pytest.param({"userid": "a"}, id="a filter misspelt"),
        pytest.param({"": "a"}, id="a parameter without a name"),
    ],
)
async def test_a_bad_query_is_400(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    parameters: httpx.QueryParams | dict[str, str],
) -> None:
    agent = new_agent()
    token = agent_token(mint_token, agent)
    for path in (AUDIT, EXPORT):
        response = await client.get(path, params=parameters, headers=bearer(token))
        assert_problem(response, 400)
    assert await audit_of(client, token, actor=agent) == []
