"""Who may call the admin routes: tokens with the admin scope (``MFA_ADMIN_SCOPE``), as agents."""

from __future__ import annotations

from typing import Any, cast

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import PathParameter

from application.agent import Agent
from application.errors import InsufficientScope
from application.ports.token_verifier import Principal
from application.step_up import Authentication

ADMIN_TOKEN: list[dict[str, list[str]]] = [{"AdminBearerToken": []}]
"""``security=`` of the admin routes."""

ADMIN_SCOPE_OPT = "admin_scope"
"""The key of the admin router's ``opt`` that holds the scope (``MFA_ADMIN_SCOPE``)."""

UserIdPath = PathParameter(
    min_length=1, max_length=255, description="The customer: their token's subject."
)


async def require_admin_scope(
    connection: ASGIConnection[Any, Any, Any, Any], route_handler: BaseRouteHandler
) -> None:
    """Raises InsufficientScope (403) unless the token carries the admin scope. The automatic
    OPTIONS answer (CORS preflight, ``Allow``) carries no token, like every route's, and is let
    through: it runs no handler."""
    if connection.scope.get("method") == "OPTIONS":
        return
    principal = cast("Principal", connection.user)
    if route_handler.opt[ADMIN_SCOPE_OPT] not in principal.scopes:
        raise InsufficientScope("the token lacks the admin scope")


def agent_of(request: Request[Principal, Any, Any]) -> Agent:
    """The agent, with what their token shows of their own authentication (never a code sent
    with the request: the agent's second factor lives with their identity provider)."""
    principal = request.user
    return Agent(
        principal.subject,
        Authentication(auth_time=principal.auth_time, amr=principal.amr, acr=principal.acr),
    )
