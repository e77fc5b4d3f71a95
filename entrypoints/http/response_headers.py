"""An ASGI middleware that gives every response its request id and the headers every response needs,
and writes one access-log line without the query string or any header values."""

from __future__ import annotations

import logging
import time

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.request_context import REQUEST_ID_HEADER, assign_request_id

access_log = logging.getLogger("mfa.access")

ALWAYS = {"X-Content-Type-Options": "nosniff"}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def response_headers_middleware(app: ASGIApp) -> ASGIApp:
    """Wraps ``app``. Every HTTP response, errors included, is marked ``no-store``: none of this
    service's answers are worth caching and some carry secrets."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        method = scope["method"]
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode("latin-1"))
        request_id = assign_request_id(scope, incoming.decode("latin-1") if incoming else None)
        started = time.perf_counter()
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableScopeHeaders.from_message(message)
                for name, value in {**ALWAYS, **NO_STORE}.items():
                    headers[name] = value
                headers[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await app(scope, receive, send_with_headers)
        finally:
            access_log.info(
                "%s %s %s %.1fms",
                method,
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
                extra={"request_id": request_id},
            )

    return middleware
