"""Managing authenticators: list, read, rename, remove. Metadata only, never a secret."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, delete, get, patch
from litestar.params import FromPath

from application.errors import EnrollmentNotFound
from application.ports.token_verifier import Principal
from domain.enrollment import Enrollment
from entrypoints.http.json_body import StrictJsonBody, require_json_body
from entrypoints.http.openapi_responses import BEARER_TOKEN, problem_responses
from entrypoints.http.request_context import request_context
from entrypoints.http.schemas import AuthenticatorResponse, RenameRequest
from entrypoints.http.services import services_of
from entrypoints.http.step_up import authentication_of

AuthenticatedRequest = Request[Principal, None, Any]
ITEM = "/settings/MfaSecret/{enrollment_id:str}"


def enrollment_id_from(text: str) -> uuid.UUID:
    """The id in the path; a malformed one is as unknown as any other."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise EnrollmentNotFound("no such authenticator") from None


def metadata(enrollment: Enrollment) -> AuthenticatorResponse:
    return AuthenticatorResponse(
        id=str(enrollment.id),
        method="totp",
        status="active" if enrollment.status.value == "active" else "pending",
        device_name=enrollment.device_name,
        created_at=enrollment.created_at,
        activated_at=enrollment.activated_at,
        last_used_at=enrollment.last_used_at,
        algorithm=enrollment.policy.algorithm.value,
        digits=enrollment.policy.digits,
        period=enrollment.policy.period,
    )


@get(
    "/settings/MfaSecret",
    summary="The user's authenticators",
    description="Active authenticators and the pending enrollment, oldest first; metadata only.",
    responses=problem_responses(401, 403, 500, 503),
    tags=["Authenticators"],
    security=BEARER_TOKEN,
)
async def list_authenticators(request: AuthenticatedRequest) -> list[AuthenticatorResponse]:
    found = await services_of(request.app).list_authenticators(request.user.subject)
    return [metadata(enrollment) for enrollment in found]


@get(
    ITEM,
    summary="One authenticator",
    responses=problem_responses(400, 401, 403, 404, 500, 503),
    tags=["Authenticators"],
    security=BEARER_TOKEN,
)
async def get_authenticator(
    request: AuthenticatedRequest, enrollment_id: FromPath[str]
) -> AuthenticatorResponse:
    found = await services_of(request.app).get_authenticator(
        request.user.subject, enrollment_id_from(enrollment_id)
    )
    return metadata(found)


@patch(
    ITEM,
    guards=[require_json_body],
    summary="Rename an authenticator",
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 500, 503),
    tags=["Authenticators"],
    security=BEARER_TOKEN,
)
async def rename_authenticator(
    request: AuthenticatedRequest,
    enrollment_id: FromPath[str],
    data: StrictJsonBody[RenameRequest],
) -> AuthenticatorResponse:
    renamed = await services_of(request.app).rename_authenticator(
        request.user.subject,
        enrollment_id_from(enrollment_id),
        data.device_name,
        request_context(request),
    )
    return metadata(renamed)


@delete(
    ITEM,
    status_code=204,
    summary="Remove an authenticator",
    description=(
        "Cancels a pending enrollment, or revokes an active authenticator for good. Revoking needs "
        "a recent sign-in with a second factor, or a current code in the X-MFA-Code header; "
        'otherwise 401 with error="insufficient_user_authentication" (RFC 9470).'
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 429, 500, 503),
    tags=["Authenticators"],
    security=BEARER_TOKEN,
)
async def remove_authenticator(
    request: AuthenticatedRequest, enrollment_id: FromPath[str]
) -> Response[None]:
    await services_of(request.app).revoke_authenticator(
        request.user.subject,
        enrollment_id_from(enrollment_id),
        authentication_of(request),
        request_context(request),
    )
    return Response(None, status_code=204)
