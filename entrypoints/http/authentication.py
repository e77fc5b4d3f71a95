"""Bearer-token authentication (RFC 6750): the user is the validated token's subject, nothing else."""

from __future__ import annotations

import re
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware

from application.errors import InvalidToken, MissingToken
from entrypoints.http.services import services_in
from entrypoints.log_context import bind_user

_BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*) *", re.IGNORECASE)
PUBLIC_PATHS = ["^/health/", "^/schema", "^/metrics$", "^/ui/"]


class BearerAuthentication(AbstractAuthenticationMiddleware):
    """Reads ``Authorization: Bearer`` only (never the query string or a cookie) and asks the
    configured TokenVerifier. Sets ``request.user`` to the Principal."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        headers = connection.headers.getall("authorization", [])
        if len(headers) > 1:
            raise InvalidToken("more than one Authorization header")  # RFC 6750 section 3.1
        header = headers[0] if headers else None
        if not header or not header[:7].lower().startswith("bearer"):
            raise MissingToken("no bearer token")
        match = _BEARER.fullmatch(header)
        if match is None:
            raise InvalidToken("the Authorization header is not a well-formed bearer token")
        token = match.group(1)
        principal = await services_in(connection.app.state).token_verifier.verify(token)
        bind_user(principal.subject)
        return AuthenticationResult(user=principal, auth=None)


def bearer_authentication() -> DefineMiddleware:
    return DefineMiddleware(BearerAuthentication, exclude=PUBLIC_PATHS)
