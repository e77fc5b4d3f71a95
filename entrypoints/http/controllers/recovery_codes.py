"""Recovery codes: regenerate a set, or see how many are left."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency

from application.ports.token_verifier import Principal
from application.use_cases.regenerate_recovery_codes import (
    GetRecoveryCodeStatus,
    RegenerateRecoveryCodes,
)
from entrypoints.http.dependencies import use_case
from entrypoints.http.idempotency import Idempotency, ShownOnce
from entrypoints.http.openapi_responses import BEARER_TOKEN, problem_responses
from entrypoints.http.request_context import request_context
from entrypoints.http.schemas import RecoveryCodesResponse, RecoveryCodeStatusResponse
from entrypoints.http.step_up import authentication_of

AuthenticatedRequest = Request[Principal, None, Any]

_SHOWN_ONCE: ShownOnce[RecoveryCodesResponse] = ShownOnce(
    "these recovery codes were shown once; regenerate with a new key"
)


class RecoveryCodeController(Controller):
    path = "/settings/MfaSecret/recovery-codes"
    tags = ["Recovery codes"]
    security = BEARER_TOKEN
    dependencies = {
        "regenerate_recovery_codes": use_case(
            lambda services: services.regenerate_recovery_codes, idempotent=True
        ),
        "recovery_code_status": use_case(lambda services: services.recovery_code_status),
    }

    @post(
        status_code=200,
        summary="Regenerate recovery codes",
        description=(
            "Ten new single-use codes, shown once; the earlier set stops working. Needs a recent "
            "sign-in with a second factor, or a current code in the X-MFA-Code header (RFC 9470)."
        ),
        responses=problem_responses(400, 404, 409, 413, 415, 422, 429),
    )
    async def regenerate_recovery_codes(
        self,
        request: AuthenticatedRequest,
        regenerate_recovery_codes: NamedDependency[RegenerateRecoveryCodes],
        idempotency: NamedDependency[Idempotency],
    ) -> RecoveryCodesResponse:
        async def regenerate() -> RecoveryCodesResponse:
            generated = await regenerate_recovery_codes(
                request.user.subject, authentication_of(request), request_context(request)
            )
            return RecoveryCodesResponse(
                recovery_codes=generated.codes, generated_at=generated.generated_at
            )

        return await idempotency.run(regenerate, _SHOWN_ONCE)

    @get(summary="How many recovery codes are left", responses=problem_responses())
    async def recovery_code_status(
        self,
        request: AuthenticatedRequest,
        recovery_code_status: NamedDependency[GetRecoveryCodeStatus],
    ) -> RecoveryCodeStatusResponse:
        status = await recovery_code_status(request.user.subject)
        return RecoveryCodeStatusResponse(
            remaining=status.remaining, generated_at=status.generated_at
        )
