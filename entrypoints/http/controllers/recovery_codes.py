"""Recovery codes: regenerate a set, or see how many are left."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post

from application.errors import AnswerNotRepeatable
from application.ports.idempotency import StoredOutcome
from application.ports.token_verifier import Principal
from entrypoints.http.idempotency import IdempotencyKey, idempotently
from entrypoints.http.openapi_responses import BEARER_TOKEN, problem_responses
from entrypoints.http.request_context import request_context
from entrypoints.http.schemas import RecoveryCodesResponse, RecoveryCodeStatusResponse
from entrypoints.http.services import services_of
from entrypoints.http.step_up import authentication_of

AuthenticatedRequest = Request[Principal, None, Any]


@post(
    "/settings/MfaSecret/recovery-codes",
    status_code=200,
    summary="Regenerate recovery codes",
    description=(
        "Ten new single-use codes, shown once; the earlier set stops working. Needs a recent "
        "sign-in with a second factor, or a current code in the X-MFA-Code header (RFC 9470)."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 422, 429, 500, 503),
    tags=["Recovery codes"],
    security=BEARER_TOKEN,
)
async def regenerate_recovery_codes(
    request: AuthenticatedRequest, idempotency_key: IdempotencyKey = None
) -> RecoveryCodesResponse:
    async def regenerate() -> RecoveryCodesResponse:
        generated = await services_of(request.app).regenerate_recovery_codes(
            request.user.subject, authentication_of(request), request_context(request)
        )
        return RecoveryCodesResponse(
            recovery_codes=generated.codes, generated_at=generated.generated_at
        )

    async def refuse_to_show_again(_: StoredOutcome) -> RecoveryCodesResponse:
        raise AnswerNotRepeatable("these recovery codes were shown once; regenerate with a new key")

    return await idempotently(
        request,
        idempotency_key,
        regenerate,
        lambda _: StoredOutcome(""),
        refuse_to_show_again,
    )


@get(
    "/settings/MfaSecret/recovery-codes",
    summary="How many recovery codes are left",
    responses=problem_responses(401, 403, 500, 503),
    tags=["Recovery codes"],
    security=BEARER_TOKEN,
)
async def recovery_code_status(request: AuthenticatedRequest) -> RecoveryCodeStatusResponse:
    status = await services_of(request.app).recovery_code_status(request.user.subject)
    return RecoveryCodeStatusResponse(remaining=status.remaining, generated_at=status.generated_at)
