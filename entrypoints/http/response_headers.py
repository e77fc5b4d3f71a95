"""Every response's headers, and the request id that ties them to the log lines.

The headers are set in Litestar's ``before_send`` hook, which sees every response: also those that
authentication (401, 403) and routing (404, 405) answer before any route middleware runs.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.request_context import REQUEST_ID_HEADER, assign_request_id, request_id_of
from entrypoints.log_context import bind_request

ALWAYS = {"X-Content-Type-Options": "nosniff"}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
"""Every answer is marked no-store: none is worth caching and some carry secrets."""

_STARTED = "mfa_started"


def ensure_request_id(scope: Scope) -> str:
    """The request's id: the one already given, a well-formed incoming one, or a new one."""
    existing = request_id_of(scope)
    if existing != "unknown":
        return existing
    incoming = dict(scope.get("headers", [])).get(REQUEST_ID_HEADER.encode("latin-1"))
    return assign_request_id(scope, incoming.decode("latin-1") if incoming else None)


def started_at(scope: Scope) -> float | None:
    """When the routed request arrived (``time.perf_counter``), if it was routed."""
    scope_dict: Any = scope
    started: float | None = scope_dict.get(_STARTED)
    return started


def request_timing_middleware(app: ASGIApp) -> ASGIApp:
    """Gives a routed request its id, start time and log context before anything else runs."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            request_id = ensure_request_id(scope)
            scope_dict: Any = scope
            scope_dict[_STARTED] = time.perf_counter()
            bind_request(request_id, scope_dict.get("path_template", ""))
        await app(scope, receive, send)

    return middleware


async def add_response_headers(message: Message, scope: Scope) -> None:
    """``before_send`` hook: the headers every response needs."""
    if message["type"] != "http.response.start":
        return
    request_id = ensure_request_id(scope)
    headers = MutableScopeHeaders.from_message(message)
    for name, value in {**ALWAYS, **NO_STORE}.items():
        headers[name] = value
    headers[REQUEST_ID_HEADER] = request_id
