"""Checking a code at sign-in or before a sensitive action."""

from __future__ import annotations

from typing import Any, Final, Literal

from litestar import Controller, Request, post
from litestar.di import NamedDependency

from application.ports.token_verifier import Principal
from application.use_cases.verify_code import VerifiedWith, VerifyCode, VerifyCommand
from entrypoints.http.dependencies import use_case
from entrypoints.http.idempotency import Idempotency, ShownOnce
from entrypoints.http.json_body import OneFieldJsonBody
from entrypoints.http.openapi_responses import BEARER_TOKEN, problem_responses
from entrypoints.http.request_context import request_context
from entrypoints.http.schemas import VerifyRequest, VerifyResponse

WIRE_METHOD: Final[dict[VerifiedWith, Literal["totp", "recoveryCode"]]] = {
    VerifiedWith.AUTHENTICATOR_CODE: "totp",
    VerifiedWith.RECOVERY_CODE: "recoveryCode",
}

_CHECKED_ONCE: ShownOnce[VerifyResponse] = ShownOnce(
    "a verification answers for the moment it was made; check a new code"
)


class VerificationController(Controller):
    path = "/mfa/verify"
    tags = ["Verification"]
    security = BEARER_TOKEN
    dependencies = {"verify_code": use_case(lambda services: services.verify_code, idempotent=True)}

    @post(
        status_code=200,
        summary="Check a code at sign-in or before a sensitive action",
        description=(
            "Send exactly one of code (from an active authenticator) and recoveryCode. A code is "
            "accepted once only; five consecutive failures block checks for a growing time. A "
            "check is never answered from a stored answer: a retry with the Idempotency-Key of a "
            "check that succeeded gets 409 answer-shown-once (nothing counted); send a new code."
        ),
        responses=problem_responses(400, 404, 409, 413, 415, 422, 429),
    )
    async def verify_code(
        self,
        request: Request[Principal, None, Any],
        data: OneFieldJsonBody[VerifyRequest],
        verify_code: NamedDependency[VerifyCode],
        idempotency: NamedDependency[Idempotency],
    ) -> VerifyResponse:
        async def verify() -> VerifyResponse:
            verified = await verify_code(
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

        return await idempotency.run(verify, _CHECKED_ONCE)
