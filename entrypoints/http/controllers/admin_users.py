"""The helpdesk's routes on one customer: look, revoke, reset, unlock, erase."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import FromPath

from application.agent import AdminNote
from application.ports.idempotency import StoredOutcome
from application.ports.token_verifier import Principal
from entrypoints.http.admin_access import UserIdPath, agent_of
from entrypoints.http.admin_schemas import (
    AdminNoteRequest,
    LockoutState,
    RecoveryCodeState,
    ResetResponse,
    UnlockResponse,
    UserFactorsResponse,
)
from entrypoints.http.controllers.authenticators import enrollment_id_from, metadata
from entrypoints.http.idempotency import IdempotencyKey, idempotently
from entrypoints.http.json_body import StrictJsonBody, require_json_body
from entrypoints.http.openapi_responses import problem_responses
from entrypoints.http.request_context import request_context
from entrypoints.http.services import services_of

AuthenticatedRequest = Request[Principal, None, Any]
UserId = Annotated[str, UserIdPath]
USER = "/users/{user_id:str}"
STEP_UP = (
    " Needs the agent's own recent sign-in with a second factor (auth_time within the step-up "
    'age, amr or acr showing it); otherwise 401 with error="insufficient_user_authentication" '
    "(RFC 9470)."
)


def _note(data: AdminNoteRequest) -> AdminNote:
    return AdminNote(data.reason, data.ticket)


@get(
    f"{USER}/authenticators",
    summary="A customer's authenticators, lockout and recovery codes",
    description="Metadata only. The reading is audited with the agent as actor.",
    responses=problem_responses(400, 401, 403, 404, 500, 503),
)
async def show_user_factors(request: AuthenticatedRequest, user_id: UserId) -> UserFactorsResponse:
    factors = await services_of(request.app).admin.show_user_factors(
        agent_of(request), user_id, request_context(request)
    )
    return UserFactorsResponse(
        user_id=user_id,
        authenticators=[metadata(enrollment) for enrollment in factors.authenticators],
        lockout=LockoutState(failures=factors.failures, locked_until=factors.locked_until),
        recovery_codes=RecoveryCodeState(
            remaining=factors.recovery_codes_remaining,
            generated_at=factors.recovery_codes_generated_at,
        ),
    )


@delete(
    f"{USER}/authenticators/{{enrollment_id:str}}",
    status_code=204,
    guards=[require_json_body],
    summary="Revoke one of a customer's authenticators",
    description="Revokes an active authenticator (the customer is told) or cancels a pending one; "
    "the reason and ticket go to the audit trail." + STEP_UP,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 500, 503),
)
async def revoke_user_authenticator(
    request: AuthenticatedRequest,
    user_id: UserId,
    enrollment_id: FromPath[str],
    data: StrictJsonBody[AdminNoteRequest],
) -> Response[None]:
    await services_of(request.app).admin.revoke_authenticator(
        agent_of(request),
        user_id,
        enrollment_id_from(enrollment_id),
        _note(data),
        request_context(request),
    )
    return Response(None, status_code=204)


@post(
    f"{USER}/reset",
    status_code=200,
    guards=[require_json_body],
    summary="Reset a customer's second factor",
    description="Revokes every authenticator, voids the recovery codes and cancels a pending "
    "enrollment, at once; the customer is told and can enroll again." + STEP_UP,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 500, 503),
)
async def reset_user_factors(
    request: AuthenticatedRequest,
    user_id: UserId,
    data: StrictJsonBody[AdminNoteRequest],
    idempotency_key: IdempotencyKey = None,
) -> ResetResponse:
    async def reset() -> ResetResponse:
        report = await services_of(request.app).admin.reset_user_factors(
            agent_of(request), user_id, _note(data), request_context(request)
        )
        return ResetResponse(
            revoked=report.revoked,
            pending_cancelled=report.pending_cancelled,
            recovery_codes_voided=report.recovery_codes_voided,
        )

    async def replay(earlier: StoredOutcome) -> ResetResponse:
        return msgspec.json.decode(earlier.body, type=ResetResponse)

    return await idempotently(request, idempotency_key, reset, _kept, replay)


@post(
    f"{USER}/unlock",
    status_code=200,
    guards=[require_json_body],
    summary="Lift a customer's lockout",
    description="Clears the failed-attempt count and any block; the customer is told." + STEP_UP,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 500, 503),
)
async def unlock_user(
    request: AuthenticatedRequest,
    user_id: UserId,
    data: StrictJsonBody[AdminNoteRequest],
    idempotency_key: IdempotencyKey = None,
) -> UnlockResponse:
    async def unlock() -> UnlockResponse:
        lifted = await services_of(request.app).admin.unlock_user(
            agent_of(request), user_id, _note(data), request_context(request)
        )
        return UnlockResponse(lifted=lifted)

    async def replay(earlier: StoredOutcome) -> UnlockResponse:
        return msgspec.json.decode(earlier.body, type=UnlockResponse)

    return await idempotently(request, idempotency_key, unlock, _kept, replay)


def _kept(response: msgspec.Struct) -> StoredOutcome:
    return StoredOutcome(msgspec.json.encode(response).decode())


@delete(
    USER,
    status_code=204,
    guards=[require_json_body],
    summary="Erase a customer (GDPR art. 17)",
    description="Removes every authenticator, ciphertext, recovery code, pending enrollment, "
    "idempotency record, notification and throttle of the customer in one transaction; their "
    "audit events stay, with the user id replaced by a keyed pseudonym. Idempotent: erasing "
    "an erased or unknown customer is 204 too." + STEP_UP,
    responses=problem_responses(400, 401, 403, 409, 413, 415, 500, 503),
)
async def erase_user(
    request: AuthenticatedRequest, user_id: UserId, data: StrictJsonBody[AdminNoteRequest]
) -> Response[None]:
    await services_of(request.app).admin.erase_user(
        agent_of(request), user_id, _note(data), request_context(request)
    )
    return Response(None, status_code=204)
