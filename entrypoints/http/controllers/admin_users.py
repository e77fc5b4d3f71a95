"""The helpdesk's routes on one customer: look, revoke, reset, unlock, erase."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from application.agent import AdminNote
from application.ports.token_verifier import Principal
from application.use_cases.admin_revoke_authenticator import AdminRevokeAuthenticator
from application.use_cases.erase_user import EraseUser
from application.use_cases.reset_user_factors import ResetUserFactors
from application.use_cases.show_user_factors import ShowUserFactors
from application.use_cases.unlock_user import UnlockUser
from entrypoints.http.admin_access import UserIdPath, agent_of
from entrypoints.http.admin_answers import user_factors_response
from entrypoints.http.admin_schemas import (
    AdminNoteRequest,
    ResetResponse,
    UnlockResponse,
    UserFactorsResponse,
)
from entrypoints.http.dependencies import use_case
from entrypoints.http.idempotency import CheckedReplay, Idempotency, StoredBody
from entrypoints.http.json_body import StrictJsonBody
from entrypoints.http.mfa_secret_answers import enrollment_id_from
from entrypoints.http.openapi_responses import problem_responses
from entrypoints.http.request_context import request_context

AuthenticatedRequest = Request[Principal, None, Any]
UserId = Annotated[str, UserIdPath]
Note = StrictJsonBody[AdminNoteRequest]
STEP_UP = (
    " Needs the agent's own recent sign-in with a second factor (auth_time within the step-up "
    'age, amr or acr showing it); otherwise 401 with error="insufficient_user_authentication" '
    "(RFC 9470)."
)


def _note(data: AdminNoteRequest) -> AdminNote:
    return AdminNote(data.reason, data.ticket)


class AdminUserController(Controller):
    """Under the admin router, which holds the tag, the security scheme and the scope guard."""

    path = "/users/{user_id:str}"
    dependencies = {
        "show_user_factors": use_case(lambda services: services.admin.show_user_factors),
        "revoke_user_authenticator": use_case(lambda services: services.admin.revoke_authenticator),
        "reset_user_factors": use_case(
            lambda services: services.admin.reset_user_factors, idempotent=True
        ),
        "unlock_user": use_case(lambda services: services.admin.unlock_user, idempotent=True),
        "erase_user": use_case(lambda services: services.admin.erase_user),
    }

    @get(
        "/authenticators",
        summary="A customer's authenticators, lockout and recovery codes",
        description="Metadata only. The reading is audited with the agent as actor.",
        responses=problem_responses(400, 404),
    )
    async def show_user_factors(
        self,
        request: AuthenticatedRequest,
        user_id: UserId,
        show_user_factors: NamedDependency[ShowUserFactors],
    ) -> UserFactorsResponse:
        factors = await show_user_factors(agent_of(request), user_id, request_context(request))
        return user_factors_response(user_id, factors)

    @delete(
        "/authenticators/{enrollment_id:str}",
        status_code=204,
        summary="Revoke one of a customer's authenticators",
        description="Revokes an active authenticator (the customer is told) or cancels a pending "
        "one; the reason and ticket go to the audit trail." + STEP_UP,
        responses=problem_responses(400, 404, 409, 413, 415),
    )
    async def revoke_user_authenticator(
        self,
        request: AuthenticatedRequest,
        user_id: UserId,
        enrollment_id: FromPath[str],
        data: Note,
        revoke_user_authenticator: NamedDependency[AdminRevokeAuthenticator],
    ) -> Response[None]:
        await revoke_user_authenticator(
            agent_of(request),
            user_id,
            enrollment_id_from(enrollment_id),
            _note(data),
            request_context(request),
        )
        return Response(None, status_code=204)

    @post(
        "/reset",
        status_code=200,
        summary="Reset a customer's second factor",
        description="Revokes every authenticator, voids the recovery codes and cancels a pending "
        "enrollment, at once; the customer is told and can enroll again." + STEP_UP,
        responses=problem_responses(400, 404, 409, 413, 415, 422),
    )
    async def reset_user_factors(
        self,
        request: AuthenticatedRequest,
        user_id: UserId,
        data: Note,
        reset_user_factors: NamedDependency[ResetUserFactors],
        idempotency: NamedDependency[Idempotency],
    ) -> ResetResponse:
        async def reset() -> ResetResponse:
            report = await reset_user_factors(
                agent_of(request), user_id, _note(data), request_context(request)
            )
            return ResetResponse(
                revoked=report.revoked,
                pending_cancelled=report.pending_cancelled,
                recovery_codes_voided=report.recovery_codes_voided,
            )

        audited = partial(
            reset_user_factors.audit_replay,
            agent_of(request),
            user_id,
            _note(data),
            request_context(request),
        )
        return await idempotency.run(reset, CheckedReplay(StoredBody(ResetResponse), audited))

    @post(
        "/unlock",
        status_code=200,
        summary="Lift a customer's lockout",
        description="Clears the failed-attempt count and any block; the customer is told."
        + STEP_UP,
        responses=problem_responses(400, 404, 409, 413, 415, 422),
    )
    async def unlock_user(
        self,
        request: AuthenticatedRequest,
        user_id: UserId,
        data: Note,
        unlock_user: NamedDependency[UnlockUser],
        idempotency: NamedDependency[Idempotency],
    ) -> UnlockResponse:
        async def unlock() -> UnlockResponse:
            return UnlockResponse(
                lifted=await unlock_user(
                    agent_of(request), user_id, _note(data), request_context(request)
                )
            )

        audited = partial(
            unlock_user.audit_replay,
            agent_of(request),
            user_id,
            _note(data),
            request_context(request),
        )
        return await idempotency.run(unlock, CheckedReplay(StoredBody(UnlockResponse), audited))

    @delete(
        status_code=204,
        summary="Erase a customer (GDPR art. 17)",
        description="Removes every authenticator, ciphertext, recovery code, pending enrollment, "
        "idempotency record, notification and throttle of the customer in one transaction; their "
        "audit events stay, with the user id replaced by a keyed pseudonym. Idempotent: erasing "
        "an erased or unknown customer is 204 too." + STEP_UP,
        responses=problem_responses(400, 409, 413, 415),
    )
    async def erase_user(
        self,
        request: AuthenticatedRequest,
        user_id: UserId,
        data: Note,
        erase_user: NamedDependency[EraseUser],
    ) -> Response[None]:
        await erase_user(agent_of(request), user_id, _note(data), request_context(request))
        return Response(None, status_code=204)
