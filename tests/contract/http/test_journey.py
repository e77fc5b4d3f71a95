"""The whole life of an authenticator, as a customer's app and the bank's front end drive it:
enroll, scan, confirm, sign in with codes and a recovery code, list, rename, revoke. Codes come from
the suite's own RFC 6238 implementation, fed with what the service returned."""

from __future__ import annotations

import httpx

from tests.contract.http.api import (
    ENROLLMENTS,
    RECOVERY_CODES,
    assert_common_headers,
    assert_problem,
    bearer,
    confirm,
    enroll,
    item,
    verify,
    with_code,
)
from tests.contract.http.harness import MintToken
from tests.contract.http.totp import Authenticator, next_step, settled_now


async def test_enroll_confirm_verify_list_rename_and_revoke(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)

    # Enroll: the secret, shown once, goes into the app.
    enrollment = await enroll(client, token, deviceName="Alice's phone")
    app = Authenticator.from_enrollment(enrollment)
    enrollment_id = enrollment["enrollmentId"]
    now = await settled_now(app.period)

    # Confirm with the code the app shows now: active, with ten recovery codes shown once.
    confirmed = await confirm(client, token, enrollment_id, app.code(now))
    assert confirmed.status_code == 200, confirmed.text
    assert_common_headers(confirmed)
    body = confirmed.json()
    assert (body["enrollmentId"], body["status"]) == (enrollment_id, "active")
    recovery_codes = body["recoveryCodes"]
    assert len(recovery_codes) == len(set(recovery_codes)) == 10

    # Sign in: the confirming code is used up; the next one verifies, once.
    assert_problem(await verify(client, token, code=app.code(now)), 400, "invalid-code")
    verified = await verify(client, token, code=app.code(now, 1))
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] is True
    assert verified.json()["method"] == "totp"
    assert verified.json()["enrollmentId"] == enrollment_id
    assert verified.json()["recoveryCodesRemaining"] == 10
    assert_problem(await verify(client, token, code=app.code(now, 1)), 400, "invalid-code")

    # A recovery code works once.
    used = await verify(client, token, recoveryCode=recovery_codes[0])
    assert used.status_code == 200, used.text
    assert (used.json()["method"], used.json()["recoveryCodesRemaining"]) == ("recoveryCode", 9)
    assert_problem(await verify(client, token, recoveryCode=recovery_codes[0]), 400)
    status = await client.get(RECOVERY_CODES, headers=bearer(token))
    assert status.json()["remaining"] == 9

    # List and read: metadata only.
    listed = await client.get(ENROLLMENTS, headers=bearer(token))
    assert listed.status_code == 200
    [authenticator] = listed.json()
    assert authenticator["id"] == enrollment_id
    assert (authenticator["status"], authenticator["deviceName"]) == ("active", "Alice's phone")
    assert authenticator["lastUsedAt"] is not None
    assert enrollment["secret"] not in listed.text and "otpauth" not in listed.text

    # Rename.
    renamed = await client.patch(item(enrollment_id), json={"deviceName": "Work phone"},
                                 headers=bearer(token))  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["deviceName"] == "Work phone"
    fetched = await client.get(item(enrollment_id), headers=bearer(token))
    assert fetched.json()["deviceName"] == "Work phone"

    # Revoke, with a code as the step-up: the app's next one, since the codes of every step up to
    # now + 1 are used up (the window is one step either side of the server's clock).
    later = await next_step(now, app.period)
    revoked = await client.delete(item(enrollment_id), headers=with_code(token, app.code(later, 1)))
    assert revoked.status_code == 204, revoked.text
    assert revoked.content == b""
    assert_problem(await client.get(item(enrollment_id), headers=bearer(token)), 404)
    assert (await client.get(ENROLLMENTS, headers=bearer(token))).json() == []
    assert_problem(await verify(client, token, code=app.code(later, 1)), 404)
