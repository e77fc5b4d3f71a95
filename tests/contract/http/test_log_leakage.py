"""After the whole suite, no log line of the service holds a secret, an otpauth URI, a QR code, a code, a
recovery code or a token that the suite saw (SECURITY.md "Logging", S5, D4).

The logs are the records of every in-process test, captured at DEBUG, and the log files of every
served process (MFA_LOG_LEVEL=DEBUG). These tests run last (``after_suite``) and first walk one more
journey that shows and sends every kind of sensitive value, with failures and forgeries among them."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.contract.http.api import (
    RECOVERY_CODES,
    activate,
    bearer,
    confirm,
    enroll,
    item,
    verify,
    with_code,
)
from tests.contract.http.harness import MintToken
from tests.contract.http.leaks import SeenValues, ServiceLogs, service_lines
from tests.contract.http.totp import Authenticator, settled_now


async def _every_kind_of_sensitive_value(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)
    now = await settled_now()
    active = await activate(client, token, now, deviceName="Phone")
    await verify(client, token, code=active.app.wrong_code(now))
    await verify(client, token, code=active.app.code(now, 1))
    await verify(client, token, code=active.app.code(now, 1))  # replayed
    await verify(client, token, recoveryCode=active.recovery_codes[0])
    await verify(client, token, recoveryCode="ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    # A recent second factor lets these through; the code is sent all the same, to be logged nowhere.
    stepped_up = mint_token(subject, auth_time=int(time.time()), amr=["pwd", "otp"])
    await client.post(RECOVERY_CODES, headers=with_code(stepped_up, active.app.code(now, 2)))
    await client.post(
        "/settings/MfaSecret",
        json={"mfaMethod": "totp", "qrFormat": "png"},
        headers=with_code(token, active.app.wrong_code(now)),
    )
    other = mint_token(f"{subject}-other")
    enrollment = await enroll(client, other, qrFormat="png")
    await confirm(client, other, enrollment["enrollmentId"], "000000")
    code = Authenticator.from_enrollment(enrollment).code(now)
    await confirm(client, other, enrollment["enrollmentId"], code)
    await client.get("/settings/MfaSecret", params={"access_token": token})
    await client.get("/settings/MfaSecret", headers=bearer(token[:-4] + "AAAA"))
    await client.delete(item(active.id), headers=with_code(stepped_up, active.app.code(now, 3)))


@pytest.mark.after_suite
@pytest.mark.needs_control
async def test_no_log_line_holds_a_secret_code_or_token_the_suite_saw(
    client: httpx.AsyncClient,
    mint_token: MintToken,
    subject: str,
    seen: SeenValues,
    service_logs: ServiceLogs,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _every_kind_of_sensitive_value(client, mint_token, subject)

    logs = "\n".join([service_logs.text(), *service_lines(caplog.records)])

    assert seen.words and seen.codes, "the suite saw sensitive values, or this test proves nothing"
    assert "/settings/MfaSecret" in logs, "the service logged its requests, or nothing was read"
    assert seen.leaks_in(logs) == []
