"""POST /settings/MfaSecret: start enrolling an authenticator app."""

from __future__ import annotations

import uuid
from typing import Any, Final, Literal

from litestar import Request, post

from application.ports.idempotency import StoredOutcome
from application.ports.qr_renderer import QrFormat
from application.ports.token_verifier import Principal
from application.use_cases.start_enrollment import StartEnrollmentCommand
from application.use_cases.started_enrollment import StartedEnrollment
from domain.enrollment import EnrollmentStatus
from domain.mfa_method import MfaMethod
from domain.policy import supported_apps
from entrypoints.http.idempotency import IdempotencyKey, idempotently
from entrypoints.http.json_body import StrictJsonBody, require_json_body
from entrypoints.http.openapi_responses import BEARER_TOKEN, problem_responses
from entrypoints.http.request_context import request_context
from entrypoints.http.schemas import StartEnrollmentRequest, StartEnrollmentResponse
from entrypoints.http.services import services_of
from entrypoints.http.step_up import authentication_of

AuthenticatedRequest = Request[Principal, None, Any]

WIRE_METHOD: Final[dict[MfaMethod, Literal["totp"]]] = {MfaMethod.TOTP: "totp"}
WIRE_STATUS: Final[dict[EnrollmentStatus, Literal["pending"]]] = {
    EnrollmentStatus.PENDING: "pending"
}


def _response(started: StartedEnrollment) -> StartEnrollmentResponse:
    return StartEnrollmentResponse(
        enrollment_id=str(started.enrollment_id),
        mfa_method=WIRE_METHOD[started.method],
        status=WIRE_STATUS[started.status],
        secret=started.secret.base32,
        secret_groups=started.secret.grouped,
        otpauth_uri=started.otpauth_uri,
        qr_code_url=started.qr_code_data_uri,
        algorithm=started.policy.algorithm.value,
        digits=started.policy.digits,
        period=started.policy.period,
        issuer=started.label.issuer,
        account_name=started.label.account_name,
        device_name=started.device_name,
        created_at=started.created_at,
        expires_at=started.expires_at,
        supported_apps=list(supported_apps(started.policy)),
    )


@post(
    "/settings/MfaSecret",
    status_code=200,
    guards=[require_json_body],
    summary="Create a pending authenticator-app secret",
    description=(
        "Creates a new TOTP secret for the signed-in user and returns it once, with an otpauth URI "
        "and a QR code to scan. The enrollment stays pending until confirmed with a first code, and "
        "replaces the user's earlier pending one. The response is never cached."
    ),
    responses=problem_responses(400, 401, 403, 409, 410, 413, 415, 422, 429, 500, 503),
    tags=["Enrollment"],
    security=BEARER_TOKEN,
)
async def start_enrollment(
    request: AuthenticatedRequest,
    data: StrictJsonBody[StartEnrollmentRequest],
    idempotency_key: IdempotencyKey = None,
) -> StartEnrollmentResponse:
    services = services_of(request.app)
    principal = request.user
    account_name = principal.display_name or principal.subject

    async def start() -> StartEnrollmentResponse:
        started = await services.start_enrollment(
            StartEnrollmentCommand(
                user_id=principal.subject,
                account_name=account_name,
                mfa_method=data.mfa_method,
                device_name=data.device_name,
                qr_format=QrFormat(data.qr_format),
                qr_scale=data.qr_scale,
                context=request_context(request),
                authentication=authentication_of(request),
            )
        )
        return _response(started)

    async def show_again(earlier: StoredOutcome) -> StartEnrollmentResponse:
        shown = await services.show_pending_enrollment(
            principal.subject,
            uuid.UUID(earlier.resource_id),
            account_name,
            QrFormat(data.qr_format),
            data.qr_scale,
        )
        return _response(shown)

    return await idempotently(
        request,
        idempotency_key,
        start,
        lambda response: StoredOutcome("", response.enrollment_id),
        show_again,
    )
