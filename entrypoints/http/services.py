"""What the HTTP layer needs from the composition root: built once per process in the lifespan and
kept on the app's state, from where ``entrypoints.http.dependencies`` injects each part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.datastructures import State

from application.idempotency import IdempotencyGuard
from application.ports.readiness import ReadinessProbe
from application.ports.token_verifier import TokenVerifier
from application.use_cases.confirm_enrollment import ConfirmEnrollment
from application.use_cases.confirmation_standing import ConfirmationStanding
from application.use_cases.list_authenticators import GetAuthenticator, ListAuthenticators
from application.use_cases.regenerate_recovery_codes import (
    GetRecoveryCodeStatus,
    RegenerateRecoveryCodes,
)
from application.use_cases.rename_authenticator import RenameAuthenticator
from application.use_cases.revoke_authenticator import RevokeAuthenticator
from application.use_cases.show_pending_enrollment import ShowPendingEnrollment
from application.use_cases.start_enrollment import StartEnrollment
from application.use_cases.verify_code import VerifyCode
from entrypoints.admin_services import AdminServices

_STATE_KEY = "services"


@dataclass(frozen=True, slots=True)
class Services:
    """The use cases and ports the controllers call."""

    start_enrollment: StartEnrollment
    confirm_enrollment: ConfirmEnrollment
    verify_code: VerifyCode
    regenerate_recovery_codes: RegenerateRecoveryCodes
    recovery_code_status: GetRecoveryCodeStatus
    list_authenticators: ListAuthenticators
    get_authenticator: GetAuthenticator
    rename_authenticator: RenameAuthenticator
    revoke_authenticator: RevokeAuthenticator
    show_pending_enrollment: ShowPendingEnrollment
    confirmation_standing: ConfirmationStanding
    idempotency: IdempotencyGuard
    token_verifier: TokenVerifier
    readiness_probes: tuple[ReadinessProbe, ...]
    admin: AdminServices


def keep_services(state: State, services: Services) -> None:
    """Called by the lifespan once the services are built."""
    state[_STATE_KEY] = services


def services_in(state: State) -> Services:
    """The services the lifespan built (for dependency providers and the authentication
    middleware, which Litestar's dependency injection does not reach)."""
    services: Any = state.get(_STATE_KEY)
    if not isinstance(services, Services):
        raise RuntimeError("the app's services are not built: is the lifespan running?")
    return services
