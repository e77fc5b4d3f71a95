"""Erasure (GDPR art. 17; API.md "Helpdesk and compliance"): everything of the customer goes in one
transaction, their audit events stay under a keyed pseudonym, and erasing again changes nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.contract.http.admin_api import (
    EXPORT,
    NOTE,
    agent_token,
    audit_of,
    delete_with,
    factors,
    new_agent,
    user_path,
)
from tests.contract.http.api import (
    ENROLLMENTS,
    RECOVERY_CODES,
    activate,
    assert_problem,
    bearer,
    enroll,
    verify,
)
from tests.contract.http.harness import FindInDatabase, MintToken
from tests.contract.http.totp import settled_now

pytestmark = pytest.mark.needs_control  # an agent's claims are chosen by the suite


async def _customer_with_everything(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    """An active authenticator, a pending one, recovery codes, a counted failure, an idempotency
    record and notifications: something in every table."""
    customer = mint_token(subject, amr=["pwd", "otp"])
    now = await settled_now()
    active = await activate(client, customer, now)
    response = await client.post(
        ENROLLMENTS,
        json={"mfaMethod": "totp"},
        headers=bearer(customer, **{"Idempotency-Key": "erasure-test-key"}),
    )
    assert response.status_code == 200, response.text
    assert (await verify(client, customer, code=active.app.wrong_code(now))).status_code == 400


async def test_erasure_removes_the_customer_and_pseudonymises_their_audit_events(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    await _customer_with_everything(client, mint_token, subject)
    agent = new_agent()
    token = agent_token(mint_token, agent)
    before = await audit_of(client, token, userId=subject)

    erased = await delete_with(client, user_path(subject), token, NOTE)

    assert erased.status_code == 204, erased.text
    assert_problem(await client.get(factors(subject), headers=bearer(token)), 404)
    assert await audit_of(client, token, userId=subject) == []
    [event] = await audit_of(client, token, actor=agent, action="admin.user_erased")
    pseudonym = event["userId"]
    assert pseudonym.startswith("pseudonym:") and subject not in pseudonym
    assert (event["reason"], event["ticket"]) == (NOTE["reason"], NOTE["ticket"])
    kept = await audit_of(client, token, userId=pseudonym)
    assert {e["id"] for e in before} <= {e["id"] for e in kept}
    [read, *_] = await audit_of(client, token, actor=agent, action="admin.audit_read")
    assert read["userId"] == pseudonym  # the reading of the erased customer's events, by pseudonym
    assert {e["action"] for e in kept} >= {"enrollment.started", "code.rejected"}
    customer = mint_token(subject)
    assert (await client.get(ENROLLMENTS, headers=bearer(customer))).json() == []
    assert (await client.get(RECOVERY_CODES, headers=bearer(customer))).json()["remaining"] == 0

    again = await delete_with(client, user_path(subject), token, NOTE)
    assert again.status_code == 204, again.text
    by_pseudonym = await delete_with(client, user_path(pseudonym), token, NOTE)
    assert by_pseudonym.status_code == 204, by_pseudonym.text
    erasures = await audit_of(client, token, userId=pseudonym, action="admin.user_erased")
    assert len(erasures) == 3
    looks_like_one = f"pseudonym:{subject}"  # not a pseudonym: it would carry the id into the trail
    assert await audit_of(client, token, userId=looks_like_one) == []
    [read, *_] = await audit_of(client, token, actor=agent, action="admin.audit_read")
    assert subject not in read["userId"]


@pytest.mark.needs_database
async def test_after_erasure_no_column_of_any_table_holds_the_user_id(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
    find_in_database: FindInDatabase,
) -> None:
    await _customer_with_everything(client, mint_token, subject)
    token = agent_token(mint_token, new_agent())
    # The agent looked and wrote a ticket: the user id is in the trail as the one acted on.
    assert (await client.get(factors(subject), headers=bearer(token))).status_code == 200
    await enroll(client, mint_token(subject, amr=["pwd", "otp"]))
    found = await find_in_database(subject)
    assert {"enrollments.user_id", "audit_events.user_id", "recovery_codes.user_id"} <= set(found)

    erased = await delete_with(client, user_path(subject), token, NOTE)
    # Looking the erased user up in the trail is audited, and must not bring the id back.
    assert await audit_of(client, token, userId=subject) == []
    exported = await client.get(EXPORT, params={"userId": subject}, headers=bearer(token))

    assert erased.status_code == 204, erased.text
    assert (exported.status_code, exported.content) == (200, b"")
    assert await find_in_database(subject) == []
