"""The request id that ties a response, its log lines and its audit events together."""

from __future__ import annotations

import re
import secrets
from typing import Any

from litestar import Request
from litestar.types import Scope

from application.ports.audit import RequestContext

REQUEST_ID_HEADER = "x-request-id"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_SCOPE_KEY = "mfa_request_id"


def kept_or_new_request_id(incoming: str | None) -> str:
    """A well-formed incoming ``X-Request-Id`` (from the bank's gateway), else a new one."""
    return incoming if incoming and _ACCEPTABLE.fullmatch(incoming) else secrets.token_hex(16)


def assign_request_id(scope: Scope, incoming: str | None) -> str:
    """The request's id (``kept_or_new_request_id``), kept in its scope."""
    request_id = kept_or_new_request_id(incoming)
    scope_dict: Any = scope
    scope_dict[_SCOPE_KEY] = request_id
    return request_id


def request_id_of(scope: Scope) -> str:
    value: Any = scope
    found = value.get(_SCOPE_KEY)
    return found if isinstance(found, str) else "unknown"


def request_context(request: Request[Any, Any, Any]) -> RequestContext:
    """Who asked, from where, for the audit trail."""
    return RequestContext(
        request_id=request_id_of(request.scope),
        client_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
