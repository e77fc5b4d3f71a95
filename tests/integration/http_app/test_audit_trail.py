"""The audit trail and the outbox after a full journey (SECURITY.md D4, API.md "Operations")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from adapters.memory.clock import FrozenClock
from adapters.sqlalchemy.engine import create_engine
from tests.contract.http.api import bearer, confirm, enroll, verify
from tests.integration.http_app.conftest import START, code_for


async def _rows(database_url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(sa.text(query))).all()]
    finally:
        await engine.dispose()


DATABASE_SETS = pytest.mark.parametrize("adapter_set", ["embedded", "production"], indirect=True)


@DATABASE_SETS
async def test_journey_leaves_exactly_the_expected_events_and_no_secret(
    client: httpx.AsyncClient,
    token_for: Callable[..., str],
    clock: FrozenClock,
    database_url: str,
) -> None:
    token = token_for("alice", auth_time=int(START.timestamp()), amr=["pwd", "otp"])
    headers = {**bearer(token), "User-Agent": "journey-test/1.0", "X-Request-Id": "journey-0001"}
    enrollment = await enroll(client, token)
    confirmed = (
        await confirm(client, token, enrollment["enrollmentId"], code_for(enrollment, START))
    ).json()
    clock.advance(timedelta(seconds=30))
    code = code_for(enrollment, clock.now())
    assert (await verify(client, token, code=code)).status_code == 200
    assert (await verify(client, token, code=code)).status_code == 400  # replayed
    assert (
        await verify(client, token, code="000000" if code != "000000" else "111111")
    ).status_code == 400
    path = f"/settings/MfaSecret/{enrollment['enrollmentId']}"
    assert (
        await client.patch(path, json={"deviceName": "Phone"}, headers=headers)
    ).status_code == 200
    regenerated = await client.post("/settings/MfaSecret/recovery-codes", headers=headers)
    assert (
        await verify(client, token, recoveryCode=regenerated.json()["recoveryCodes"][0])
    ).status_code == 200
    assert (await client.delete(path, headers=headers)).status_code == 204

    events = await _rows(database_url, "SELECT action, user_id FROM audit_events ORDER BY id")
    assert [action for action, _ in events] == [
        "enrollment.started",
        "recovery_codes.generated",
        "enrollment.confirmed",
        "code.verified",
        "code.replayed",
        "code.rejected",
        "authenticator.renamed",
        "recovery_codes.generated",
        "recovery_code.used",
        "authenticator.revoked",
    ]
    assert {user for _, user in events} == {"alice"}
    renamed = await _rows(
        database_url,
        "SELECT request_id, user_agent, client_address FROM audit_events "
        "WHERE action = 'authenticator.renamed'",
    )
    assert renamed == [("journey-0001", "journey-test/1.0", "127.0.0.1")]

    everything = str(await _rows(database_url, "SELECT * FROM audit_events"))
    secrets_seen = [enrollment["secret"], code, token, *confirmed["recoveryCodes"],
                    *regenerated.json()["recoveryCodes"]]  # fmt: skip
    for value in secrets_seen:
        assert value not in everything
        assert value.replace("-", "") not in everything

    outbox = await _rows(database_url, "SELECT kind FROM notification_outbox ORDER BY id")
    assert [kind for (kind,) in outbox] == [
        "authenticator.added",
        "recovery_codes.regenerated",
        "authenticator.removed",
    ]


@DATABASE_SETS
async def test_audit_trail_refuses_updates_and_deletes(
    client: httpx.AsyncClient, token_for: Callable[..., str], database_url: str
) -> None:  # D4
    await enroll(client, token_for("alice"))
    engine = create_engine(database_url)
    try:
        for statement in (
            "UPDATE audit_events SET user_id = 'mallory'",
            "DELETE FROM audit_events",
        ):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


@DATABASE_SETS
async def test_the_only_rewrite_the_trail_allows_is_a_user_id_to_its_pseudonym(
    client: httpx.AsyncClient, token_for: Callable[..., str], database_url: str
) -> None:  # D4, GDPR art. 17
    await enroll(client, token_for("alice"))
    pseudonym = "pseudonym:" + "0123456789abcdef" * 4
    engine = create_engine(database_url)
    try:
        for statement in (
            "UPDATE audit_events SET user_id = 'pseudonym:not-hex'",
            "UPDATE audit_events SET user_id = :pseudonym, detail = 'rewritten'",
            "UPDATE audit_events SET actor = 'mallory'",
        ):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(sa.text(statement), {"pseudonym": pseudonym})
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("UPDATE audit_events SET user_id = :pseudonym"), {"pseudonym": pseudonym}
            )
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(
                    sa.text("UPDATE audit_events SET user_id = :other"),
                    {"other": "pseudonym:" + "f" * 64},
                )
    finally:
        await engine.dispose()
    assert await _rows(database_url, "SELECT DISTINCT user_id FROM audit_events") == [(pseudonym,)]
