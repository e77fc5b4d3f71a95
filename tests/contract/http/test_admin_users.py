"""The helpdesk's routes on one customer (API.md "Helpdesk and compliance"): who may call them,
what they show, and what each change does, audits and tells the customer."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.contract.http.admin_api import (
    ADMIN_SCOPE,
    AUDIT,
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
    assert_common_headers,
    assert_problem,
    assert_step_up_required,
    bearer,
    enroll,
    verify,
)
from tests.contract.http.harness import MintToken
from tests.contract.http.totp import settled_now
from tests.contract.http.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.needs_control  # an agent's claims are chosen by the suite


def _calls(user_id: str, enrollment_id: str | None = None) -> list[tuple[str, str, object]]:
    """Every admin route, with a valid body where it needs one."""
    return [
        ("GET", factors(user_id), None),
        ("DELETE", f"{factors(user_id)}/{enrollment_id or uuid.uuid4()}", NOTE),
        ("POST", f"{user_path(user_id)}/reset", NOTE),
        ("POST", f"{user_path(user_id)}/unlock", NOTE),
        ("DELETE", user_path(user_id), NOTE),
        ("GET", AUDIT, None),
        ("GET", EXPORT, None),
    ]


async def test_a_customer_token_gets_403_on_every_admin_route(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    customer = mint_token(subject, auth_time=None, amr=["pwd", "otp"])
    await enroll(client, customer)
    for method, path, body in _calls(subject):
        response = await client.request(method, path, json=body, headers=bearer(customer))
        assert_problem(response, 403, "insufficient-scope")
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
        assert_common_headers(response)
    listed = await client.get(ENROLLMENTS, headers=bearer(customer))
    assert len(listed.json()) == 1  # nothing changed


async def test_without_a_token_every_admin_route_is_401(
    client: httpx.AsyncClient, subject: str
) -> None:
    for method, path, body in _calls(subject):
        response = await client.request(method, path, json=body)
        assert_problem(response, 401, "unauthenticated")


async def test_an_unknown_user_is_404_and_erasing_one_is_204(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = agent_token(mint_token, new_agent())
    for method, path, body in _calls(subject)[:4]:
        response = await client.request(method, path, json=body, headers=bearer(token))
        assert_problem(response, 404)
    erased = await delete_with(client, user_path(subject), token, NOTE)
    assert erased.status_code == 204, erased.text


async def test_changes_need_the_agents_own_recent_second_factor(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    customer = mint_token(subject)
    active = await activate(client, customer, await settled_now())
    agent = new_agent()
    for claims in ({}, {"auth_time": 1}, {"amr": ["pwd"]}):
        token = mint_token(agent, scope=f"openid mfa {ADMIN_SCOPE}", **claims)
        assert (await client.get(factors(subject), headers=bearer(token))).status_code == 200
        for method, path, body in _calls(subject)[1:5]:
            path = (
                path.replace(path.rsplit("/", 1)[-1], active.id)
                if "authenticators/" in path
                else path
            )
            response = await client.request(method, path, json=body, headers=bearer(token))
            assert_step_up_required(response)
            # An agent's code is not taken (outside test: the detail offered X-MFA-Code).
            assert "X-MFA-Code" not in response.json()["detail"]
    listed = await client.get(ENROLLMENTS, headers=bearer(customer))
    assert [a["id"] for a in listed.json()] == [active.id]  # nothing changed


async def test_the_helpdesk_sees_metadata_lockout_state_and_codes_left(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    customer = mint_token(subject)
    now = await settled_now()
    active = await activate(client, customer, now, deviceName="Alice's phone")
    for _ in range(2):
        wrong = await verify(client, customer, code=active.app.wrong_code(now))
        assert wrong.status_code == 400
    agent = new_agent()

    response = await client.get(factors(subject), headers=bearer(agent_token(mint_token, agent)))

    assert response.status_code == 200, response.text
    assert_common_headers(response)
    body = response.json()
    assert body["userId"] == subject
    assert body["lockout"] == {"failures": 2, "lockedUntil": None}
    assert body["recoveryCodes"]["remaining"] == 10
    [authenticator] = body["authenticators"]
    assert (authenticator["id"], authenticator["status"]) == (active.id, "active")
    assert authenticator["deviceName"] == "Alice's phone"
    assert active.enrollment["secret"] not in response.text
    viewed = await audit_of(
        client, agent_token(mint_token, agent), userId=subject, action="admin.user_viewed"
    )
    assert [event["actor"] for event in viewed] == [agent]


async def test_an_agent_revokes_an_authenticator_audited_and_the_customer_told(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
    webhook_receiver: WebhookReceiver,
) -> None:
    customer = mint_token(subject)
    now = await settled_now()
    active = await activate(client, customer, now)
    agent = new_agent()
    token = agent_token(mint_token, agent)

    response = await delete_with(client, f"{factors(subject)}/{active.id}", token, NOTE)

    assert response.status_code == 204, response.text
    assert (await client.get(ENROLLMENTS, headers=bearer(customer))).json() == []
    assert_problem(await verify(client, customer, code=active.app.code(now, 1)), 404)
    [event] = await audit_of(client, token, userId=subject, action="admin.authenticator_revoked")
    assert event["actor"] == agent
    assert (event["reason"], event["ticket"]) == (NOTE["reason"], NOTE["ticket"])
    assert event["enrollmentId"] == active.id
    told = webhook_receiver.wait_for(subject, "authenticator.removed")
    assert told["enrollmentId"] == active.id
    again = await delete_with(client, f"{factors(subject)}/{active.id}", token, NOTE)
    assert_problem(again, 404)


async def test_a_reset_revokes_all_voids_codes_and_cancels_the_pending_one(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
    webhook_receiver: WebhookReceiver,
) -> None:
    customer = mint_token(subject, auth_time=None, amr=["pwd", "otp"])
    now = await settled_now()
    active = await activate(client, customer, now)
    stepped_up = mint_token(subject, amr=["pwd", "otp"])
    await enroll(client, stepped_up)  # a second one, pending
    agent = new_agent()
    token = agent_token(mint_token, agent)

    response = await client.post(
        f"{user_path(subject)}/reset", json={"reason": "lost phone"}, headers=bearer(token)
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"revoked": 1, "pendingCancelled": 1, "recoveryCodesVoided": 10}
    assert (await client.get(ENROLLMENTS, headers=bearer(customer))).json() == []
    codes = await client.get(RECOVERY_CODES, headers=bearer(customer))
    assert codes.json()["remaining"] == 0
    assert_problem(await verify(client, customer, recoveryCode=active.recovery_codes[0]), 404)
    [event] = await audit_of(client, token, userId=subject, action="admin.factors_reset")
    assert (event["actor"], event["reason"], event["ticket"]) == (agent, "lost phone", None)
    webhook_receiver.wait_for(subject, "user.factors_reset")
    # The customer starts again from scratch.
    assert (await activate(client, customer, await settled_now())).id


async def test_an_agent_lifts_a_lockout_and_the_customer_signs_in_again(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
    webhook_receiver: WebhookReceiver,
) -> None:
    customer = mint_token(subject)
    now = await settled_now()
    active = await activate(client, customer, now)
    for _ in range(5):
        await verify(client, customer, code=active.app.wrong_code(now))
    assert_problem(await verify(client, customer, code=active.app.code(now, 1)), 429)
    agent = new_agent()
    token = agent_token(mint_token, agent)

    response = await client.post(f"{user_path(subject)}/unlock", json=NOTE, headers=bearer(token))

    assert response.status_code == 200, response.text
    assert response.json() == {"lifted": True}
    now = await settled_now()
    assert (await verify(client, customer, code=active.app.code(now, 1))).status_code == 200
    [event] = await audit_of(client, token, userId=subject, action="admin.unlocked")
    assert (event["actor"], event["ticket"]) == (agent, NOTE["ticket"])
    webhook_receiver.wait_for(subject, "user.unlocked")
    again = await client.post(f"{user_path(subject)}/unlock", json=NOTE, headers=bearer(token))
    assert again.json() == {"lifted": False}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"reason": "x" * 501}, id="reason too long"),
        pytest.param({"reason": ""}, id="reason empty"),
        pytest.param({}, id="reason missing"),
        pytest.param({"reason": "ok", "ticket": "t" * 65}, id="ticket too long"),
        pytest.param({"reason": "ok", "extra": 1}, id="unknown field"),
        pytest.param({"reason": "line\u0000break"}, id="control character"),
        pytest.param({"reason": " \u3164\u2800 "}, id="reason shows nothing"),
        pytest.param({"reason": "ok", "ticket": "\u200b"}, id="ticket shows nothing"),
        pytest.param({"reason": "ok", "ticket": "INC-1\u202e"}, id="ticket with a bidi override"),
        pytest.param({"reason": "refund \u2066approved\u2069"}, id="reason with a bidi isolate"),
    ],
)
async def test_a_bad_reason_is_400_and_changes_nothing(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, body: dict[str, object]
) -> None:
    customer = mint_token(subject)
    active = await activate(client, customer, await settled_now())
    token = agent_token(mint_token, new_agent())
    for method, path in (
        ("DELETE", f"{factors(subject)}/{active.id}"),
        ("POST", f"{user_path(subject)}/reset"),
        ("POST", f"{user_path(subject)}/unlock"),
        ("DELETE", user_path(subject)),
    ):
        response = await client.request(method, path, json=body, headers=bearer(token))
        assert_problem(response, 400)
    listed = await client.get(ENROLLMENTS, headers=bearer(customer))
    assert [a["id"] for a in listed.json()] == [active.id]
    events = await audit_of(client, token, userId=subject)
    assert not [e for e in events if e["action"].startswith("admin.")]


async def test_the_openapi_document_gives_the_admin_routes_their_own_tag_and_scheme(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    admin = {path: ops for path, ops in document["paths"].items() if path.startswith("/admin/")}
    assert set(admin) == {
        "/admin/users/{user_id}/authenticators",
        "/admin/users/{user_id}/authenticators/{enrollment_id}",
        "/admin/users/{user_id}/reset",
        "/admin/users/{user_id}/unlock",
        "/admin/users/{user_id}",
        "/admin/audit",
        "/admin/audit/export",
    }
    for path, operations in document["paths"].items():
        for operation in operations.values():
            if path.startswith("/admin/"):
                assert operation["tags"] == ["Admin"], path
                assert operation["security"] == [{"AdminBearerToken": []}], path
            else:
                assert "Admin" not in operation.get("tags", []), path
    scheme = document["components"]["securitySchemes"]["AdminBearerToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


@pytest.mark.parametrize(
    "user_id",
    [
        pytest.param("%00", id="NUL"),
        pytest.param("a%01b", id="control character"),
        pytest.param("u" * 256, id="over 255 characters"),
    ],
)
async def test_a_user_id_the_stores_cannot_hold_is_400_on_every_admin_route(
    client: httpx.AsyncClient, mint_token: MintToken, user_id: str
) -> None:
    token = agent_token(mint_token, new_agent())
    for method, path, body in _calls(user_id)[:5]:
        response = await client.request(method, path, json=body, headers=bearer(token))
        assert_problem(response, 400)
    for name in ("userId", "actor"):
        response = await client.get(
            AUDIT,
            params={name: user_id.replace("%00", "\x00").replace("%01", "\x01")},
            headers=bearer(token),
        )
        assert_problem(response, 400)


async def test_a_retried_reset_with_its_idempotency_key_answers_the_same_and_acts_once(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    await activate(client, mint_token(subject), await settled_now())
    agent = new_agent()
    token = agent_token(mint_token, agent)
    headers = bearer(token, **{"Idempotency-Key": f"reset-{subject}"})
    path = f"{user_path(subject)}/reset"

    first = await client.post(path, json=NOTE, headers=headers)
    again = await client.post(path, json=NOTE, headers=headers)

    assert first.status_code == again.status_code == 200, again.text
    assert (
        first.json()
        == again.json()
        == {
            "revoked": 1,
            "pendingCancelled": 0,
            "recoveryCodesVoided": 10,
        }
    )
    assert len(await audit_of(client, token, userId=subject, action="admin.factors_reset")) == 1
    [replayed] = await audit_of(client, token, userId=subject, action="admin.request_replayed")
    assert (replayed["actor"], replayed["reason"]) == (agent, NOTE["reason"])
    other = await client.post(path, json={"reason": "another"}, headers=headers)
    assert_problem(other, 422)


@pytest.mark.needs_control
@pytest.mark.parametrize("change", ["reset", "unlock"])
async def test_a_retried_change_still_needs_the_agents_recent_second_factor(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, change: str
) -> None:
    await activate(client, mint_token(subject), await settled_now())
    agent = new_agent()
    key = {"Idempotency-Key": f"{change}-{subject}"}
    path = f"{user_path(subject)}/{change}"
    first = await client.post(
        path, json=NOTE, headers=bearer(agent_token(mint_token, agent), **key)
    )

    stale = agent_token(mint_token, agent, stepped_up=False)
    again = await client.post(path, json=NOTE, headers=bearer(stale, **key))

    assert first.status_code == 200, first.text
    assert again.status_code == 401, again.text
    assert "insufficient_user_authentication" in again.headers["www-authenticate"]
