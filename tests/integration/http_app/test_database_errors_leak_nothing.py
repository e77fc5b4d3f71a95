"""A statement that fails puts none of its parameters in a log line or an answer (issue 11).

Every write path runs while another session holds the tables locked, so that each statement the
service sends meets the lock timeout, as the rename did in the outside test. The log records (at
DEBUG, with their tracebacks) must then hold neither the stored ciphertext nor the ids that decrypt
it nor anything of the statement's parameters.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from adapters.memory.clock import FrozenClock
from tests.contract.http.api import bearer, confirm, enroll
from tests.integration.http_app.conftest import START, code_for
from tests.support.in_process import Client
from tests.support.postgres import ADMIN_DSN

TABLES = "enrollments, user_throttles, recovery_codes, audit_events, idempotency_keys"


@asynccontextmanager
async def _tables_locked(database_url: str) -> AsyncIterator[None]:
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + "/" + database_url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute(f"LOCK TABLE {TABLES} IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        await connection.close()


async def _stored_ciphertexts(database_url: str) -> list[str]:
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + "/" + database_url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(dsn)
    try:
        return [row[0] for row in await connection.fetch("SELECT sealed_secret FROM enrollments")]
    finally:
        await connection.close()


def _write_paths(
    token: str, active: dict[str, Any], pending: dict[str, Any], code: str
) -> list[tuple[str, str, dict[str, Any] | None, dict[str, str]]]:
    stepped_up = {**bearer(token), "X-MFA-Code": code}
    return [
        ("POST", "/settings/MfaSecret", {"mfaMethod": "totp"}, bearer(token)),
        (
            "PATCH",
            f"/settings/MfaSecret/{active['enrollmentId']}",
            {"deviceName": "New"},
            bearer(token),
        ),
        (
            "POST",
            f"/settings/MfaSecret/{pending['enrollmentId']}/verification",
            {"code": code},
            bearer(token),
        ),
        ("POST", "/mfa/verify", {"code": code}, bearer(token)),
        ("POST", "/mfa/verify", {"recoveryCode": "AAAA-BBBB-CCCC-DDDD"}, bearer(token)),
        ("POST", "/settings/MfaSecret/recovery-codes", None, stepped_up),
        ("DELETE", f"/settings/MfaSecret/{active['enrollmentId']}", None, stepped_up),
        (
            "POST",
            "/settings/MfaSecret",
            {"mfaMethod": "totp"},
            {**bearer(token), "Idempotency-Key": "k-1"},
        ),
    ]


@pytest.mark.parametrize("adapter_set", ["production"])
async def test_no_statement_parameter_reaches_a_log_line_or_an_answer(
    client: Client,
    token_for: Callable[..., str],
    clock: FrozenClock,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    subject = f"customer-{uuid.uuid4()}"
    token = token_for(subject, amr=["otp"], auth_time=int(START.timestamp()))
    active = await enroll(client, token)
    assert (
        await confirm(client, token, active["enrollmentId"], code_for(active, clock.now()))
    ).status_code == 200
    pending = await enroll(client, token)
    code = code_for(active, clock.now(), 1)
    ciphertexts = await _stored_ciphertexts(database_url)
    secret_ids = [subject, active["enrollmentId"], pending["enrollmentId"]]

    answers = []
    with caplog.at_level(logging.DEBUG):
        async with _tables_locked(database_url):
            for method, path, body, headers in _write_paths(token, active, pending, code):
                answers.append(await client.request(method, path, json=body, headers=headers))

    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {503, 429}, "a check that cannot lock the throttle at once is a 429"
    assert statuses.count(503) >= 4, [answer.text for answer in answers]
    formatter = logging.Formatter("%(message)s %(exc_text)s")
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert "dependency unavailable: database" in logged
    for answer in answers:
        assert not any(value in answer.text for value in [*ciphertexts, *secret_ids])
    assert "parameters" not in logged
    for ciphertext in ciphertexts:
        assert ciphertext not in logged
        assert ciphertext.split(":")[-1][:24] not in logged
    assert not any(f"'{value}'" in logged for value in secret_ids), "a parameter tuple was logged"
