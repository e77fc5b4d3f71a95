"""The user's authenticators, /settings/MfaSecret: enrolling one, and managing those they have."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from application.ports.qr_renderer import QrFormat
from application.ports.token_verifier import Principal
from application.use_cases.confirm_enrollment import ConfirmEnrollment, ConfirmEnrollmentCommand
from application.use_cases.confirmation_standing import ConfirmationStanding
from application.use_cases.list_authenticators import GetAuthenticator, ListAuthenticators
from application.use_cases.rename_authenticator import RenameAuthenticator
from application.use_cases.revoke_authenticator import RevokeAuthenticator
from application.use_cases.show_pending_enrollment import ShowPendingEnrollment
from application.use_cases.start_enrollment import StartEnrollment, StartEnrollmentCommand
from entrypoints.http.dependencies import use_case
from entrypoints.http.idempotency import CheckedReplay, Idempotency
from entrypoints.http.json_body import StrictJsonBody
from entrypoints.http.mfa_secret_answers import (
    CONFIRMED,
    ShownAgain,
    enrollment_id_from,
    metadata,
    started_response,
)
from entrypoints.http.openapi_responses import BEARER_TOKEN, problem_responses
from entrypoints.http.request_context import request_context
from entrypoints.http.schemas import (
    AuthenticatorResponse,
    ConfirmEnrollmentRequest,
    ConfirmEnrollmentResponse,
    RenameRequest,
    StartEnrollmentRequest,
    StartEnrollmentResponse,
)
from entrypoints.http.services import services_in
from entrypoints.http.step_up import authentication_of

AuthenticatedRequest = Request[Principal, None, Any]
ITEM = "/{enrollment_id:str}"
ENROLLMENT = ["Enrollment"]
AUTHENTICATORS = ["Authenticators"]


def _show_after_start(
    state: State, start_enrollment: NamedDependency[StartEnrollment]
) -> ShowPendingEnrollment:
    """What shows a retried start its enrollment again; after ``start_enrollment``, so that the
    handler's dependencies form one chain (see ``entrypoints.http.dependencies``)."""
    return services_in(state).show_pending_enrollment


def _standing_after_confirm(
    state: State, confirm_enrollment: NamedDependency[ConfirmEnrollment]
) -> ConfirmationStanding:
    """What tells whether a retried confirmation may get its first answer again; after
    ``confirm_enrollment``, for the same reason."""
    return services_in(state).confirmation_standing


class MfaSecretController(Controller):
    """One controller for the one resource, with a tag for each of its two parts: Litestar cannot
    register two controllers with routes on the same path (``/settings/MfaSecret``)."""

    path = "/settings/MfaSecret"
    security = BEARER_TOKEN
    dependencies = {
        "start_enrollment": use_case(lambda services: services.start_enrollment, idempotent=True),
        "show_pending_enrollment": Provide(_show_after_start, sync_to_thread=False),
        "confirm_enrollment": use_case(
            lambda services: services.confirm_enrollment, idempotent=True
        ),
        "confirmation_standing": Provide(_standing_after_confirm, sync_to_thread=False),
        "list_authenticators": use_case(lambda services: services.list_authenticators),
        "get_authenticator": use_case(lambda services: services.get_authenticator),
        "rename_authenticator": use_case(lambda services: services.rename_authenticator),
        "revoke_authenticator": use_case(lambda services: services.revoke_authenticator),
    }

    @post(
        tags=ENROLLMENT,
        status_code=200,
        summary="Create a pending authenticator-app secret",
        description=(
            "Creates a new TOTP secret for the signed-in user and returns it once, with an "
            "otpauth URI and a QR code to scan. The enrollment stays pending until confirmed with "
            "a first code, and replaces the user's earlier pending one. The response is never "
            "cached. A retry with the same Idempotency-Key shows the same pending enrollment "
            "again: 404 once a later start replaced it or it was cancelled, 409 once confirmed, "
            "410 once expired."
        ),
        responses=problem_responses(400, 404, 409, 410, 413, 415, 422, 429),
    )
    async def start_enrollment(
        self,
        request: AuthenticatedRequest,
        data: StrictJsonBody[StartEnrollmentRequest],
        start_enrollment: NamedDependency[StartEnrollment],
        show_pending_enrollment: NamedDependency[ShowPendingEnrollment],
        idempotency: NamedDependency[Idempotency],
    ) -> StartEnrollmentResponse:
        principal = request.user
        account_name = principal.display_name or principal.subject

        async def start() -> StartEnrollmentResponse:
            started = await start_enrollment(
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
            return started_response(started)

        shown_again = ShownAgain(
            show_pending_enrollment,
            principal.subject,
            account_name,
            data,
            authentication_of(request),
            request_context(request),
        )
        return await idempotency.run(start, shown_again)

    @post(
        f"{ITEM}/verification",
        tags=ENROLLMENT,
        status_code=200,
        summary="Confirm a pending authenticator with its first code",
        description=(
            "Activates the enrollment when the code matches; its time step is then used up. "
            "Returns ten recovery codes, shown once, when the user had none. A wrong and a "
            "replayed code get the same 400."
        ),
        responses=problem_responses(400, 404, 409, 410, 413, 415, 422, 429),
    )
    async def confirm_enrollment(
        self,
        request: AuthenticatedRequest,
        enrollment_id: FromPath[str],
        data: StrictJsonBody[ConfirmEnrollmentRequest],
        confirm_enrollment: NamedDependency[ConfirmEnrollment],
        confirmation_standing: NamedDependency[ConfirmationStanding],
        idempotency: NamedDependency[Idempotency],
    ) -> ConfirmEnrollmentResponse:
        parsed_id = enrollment_id_from(enrollment_id)

        async def confirm() -> ConfirmEnrollmentResponse:
            confirmed = await confirm_enrollment(
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

        still_true = partial(confirmation_standing, request.user.subject, parsed_id)
        return await idempotency.run(confirm, CheckedReplay(CONFIRMED, still_true))

    @get(
        tags=AUTHENTICATORS,
        summary="The user's authenticators",
        description="Active authenticators and the pending enrollment, oldest first; metadata only.",
        responses=problem_responses(),
    )
    async def list_authenticators(
        self,
        request: AuthenticatedRequest,
        list_authenticators: NamedDependency[ListAuthenticators],
    ) -> list[AuthenticatorResponse]:
        found = await list_authenticators(request.user.subject)
        return [metadata(enrollment) for enrollment in found]

    @get(
        ITEM,
        tags=AUTHENTICATORS,
        summary="One authenticator",
        responses=problem_responses(400, 404),
    )
    async def get_authenticator(
        self,
        request: AuthenticatedRequest,
        enrollment_id: FromPath[str],
        get_authenticator: NamedDependency[GetAuthenticator],
    ) -> AuthenticatorResponse:
        found = await get_authenticator(request.user.subject, enrollment_id_from(enrollment_id))
        return metadata(found)

    @patch(
        ITEM,
        tags=AUTHENTICATORS,
        summary="Rename an authenticator",
        responses=problem_responses(400, 404, 409, 413, 415),
    )
    async def rename_authenticator(
        self,
        request: AuthenticatedRequest,
        enrollment_id: FromPath[str],
        data: StrictJsonBody[RenameRequest],
        rename_authenticator: NamedDependency[RenameAuthenticator],
    ) -> AuthenticatorResponse:
        renamed = await rename_authenticator(
            request.user.subject,
            enrollment_id_from(enrollment_id),
            data.device_name,
            request_context(request),
        )
        return metadata(renamed)

    @delete(
        ITEM,
        tags=AUTHENTICATORS,
        status_code=204,
        summary="Remove an authenticator",
        description=(
            "Cancels a pending enrollment, or revokes an active authenticator for good. Revoking "
            "needs a recent sign-in with a second factor, or a current code in the X-MFA-Code "
            'header; otherwise 401 with error="insufficient_user_authentication" (RFC 9470).'
        ),
        responses=problem_responses(400, 404, 409, 413, 415, 429),
    )
    async def remove_authenticator(
        self,
        request: AuthenticatedRequest,
        enrollment_id: FromPath[str],
        revoke_authenticator: NamedDependency[RevokeAuthenticator],
    ) -> Response[None]:
        await revoke_authenticator(
            request.user.subject,
            enrollment_id_from(enrollment_id),
            authentication_of(request),
            request_context(request),
        )
        return Response(None, status_code=204)
