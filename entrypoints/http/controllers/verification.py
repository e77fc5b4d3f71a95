"""Checking codes: the first code that activates an authenticator, and codes at sign-in."""

from __future__ import annotations

from functools import partial
from typing import Any, Final, Literal, TypeVar

import msgspec
from litestar import Request, post
from litestar.params import FromPath

from application.errors import AnswerNotRepeatable
from application.ports.idempotency import StoredOutcome
from application.ports.token_verifier import Principal
from application.use_cases.confirm_enrollment import ConfirmEnrollmentCommand
from application.use_cases.verify_code import VerifiedWith, VerifyCommand
from entrypoints.http.controllers.authenticators import enrollment_id_from
from entrypoints.http.idempotency import IdempotencyKey, idempotently
from entrypoints.http.json_body import OneFieldJsonBody, StrictJsonBody, require_json_body
from entrypoints.http.openapi_responses import BEARER_TOKEN, problem_responses
from entrypoints.http.request_context import request_context
from entrypoints.http.schemas import (
    ConfirmEnrollmentRequest,
    ConfirmEnrollmentResponse,
    VerifyRequest,
    VerifyResponse,
)
from entrypoints.http.services import services_of

AuthenticatedRequest = Request[Principal, None, Any]
S = TypeVar("S", bound=msgspec.Struct)

WIRE_METHOD: Final[dict[VerifiedWith, Literal["totp", "recoveryCode"]]] = {
    VerifiedWith.AUTHENTICATOR_CODE: "totp",
    VerifiedWith.RECOVERY_CODE: "recoveryCode",
}


@post(
    "/settings/MfaSecret/{enrollment_id:str}/verification",
    status_code=200,
    guards=[require_json_body],
    summary="Confirm a pending authenticator with its first code",
    description=(
        "Activates the enrollment when the code matches; its time step is then used up. Returns "
        "ten recovery codes, shown once, when the user had none. A wrong and a replayed code get "
        "the same 400."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 410, 413, 415, 422, 429, 500, 503),
    tags=["Enrollment"],
    security=BEARER_TOKEN,
)
async def confirm_enrollment(
    request: AuthenticatedRequest,
    enrollment_id: FromPath[str],
    data: StrictJsonBody[ConfirmEnrollmentRequest],
    idempotency_key: IdempotencyKey = None,
) -> ConfirmEnrollmentResponse:
    parsed_id = enrollment_id_from(enrollment_id)

    async def confirm() -> ConfirmEnrollmentResponse:
        confirmed = await services_of(request.app).confirm_enrollment(
            ConfirmEnrollmentCommand(
                user_id=request.user.subject,
                enrollment_id=parsed_id,
                code=data.code,
                context=request_context(request),
            )
        )
        return ConfirmEnrollmentResponse(
            enrollment_id=str(confirmed.enrollment_id),
            status="active",
            activated_at=confirmed.activated_at,
            recovery_codes=confirmed.recovery_codes,
        )

    def keep(response: ConfirmEnrollmentResponse) -> StoredOutcome:
        without_codes = msgspec.structs.replace(response, recovery_codes=None)
        return StoredOutcome(msgspec.json.encode(without_codes).decode())

    return await idempotently(
        request, idempotency_key, confirm, keep, partial(_stored, ConfirmEnrollmentResponse)
    )


@post(
    "/mfa/verify",
    status_code=200,
    guards=[require_json_body],
    summary="Check a code at sign-in or before a sensitive action",
    description=(
        "Send exactly one of code (from an active authenticator) and recoveryCode. A code is "
        "accepted once only; five consecutive failures block checks for a growing time. A check "
        "is never answered from a stored answer: a retry with the Idempotency-Key of a check "
        "that succeeded gets 409 answer-shown-once (nothing counted); send a new code."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503),
    tags=["Verification"],
    security=BEARER_TOKEN,
)
async def verify_code(
    request: AuthenticatedRequest,
    data: OneFieldJsonBody[VerifyRequest],
    idempotency_key: IdempotencyKey = None,
) -> VerifyResponse:
    async def verify() -> VerifyResponse:
        verified = await services_of(request.app).verify_code(
            VerifyCommand(
                user_id=request.user.subject,
                code=data.code,
                recovery_code=data.recovery_code,
                context=request_context(request),
            )
        )
        return VerifyResponse(
            verified=True,
            method=WIRE_METHOD[verified.method],
            enrollment_id=str(verified.enrollment_id) if verified.enrollment_id else None,
            verified_at=verified.verified_at,
            recovery_codes_remaining=verified.recovery_codes_remaining,
        )

    async def never_replay_a_check(_: StoredOutcome) -> VerifyResponse:
        raise AnswerNotRepeatable(
            "a verification answers for the moment it was made; check a new code"
        )

    return await idempotently(
        request, idempotency_key, verify, lambda _: StoredOutcome(""), never_replay_a_check
    )


async def _stored(kind: type[S], earlier: StoredOutcome) -> S:
    return msgspec.json.decode(earlier.body, type=kind)
