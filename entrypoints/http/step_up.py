"""What a request shows of the user's authentication, for step-up decisions (RFC 9470)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from application.ports.token_verifier import Principal
from application.step_up import Authentication

CURRENT_CODE_HEADER = "x-mfa-code"
"""A current code from the user's authenticator, as an alternative to a fresh sign-in."""


def authentication_of(request: Request[Principal, Any, Any]) -> Authentication:
    principal = request.user
    return Authentication(
        auth_time=principal.auth_time,
        amr=principal.amr,
        acr=principal.acr,
        current_code=request.headers.get(CURRENT_CODE_HEADER),
    )
