"""The access line: one per answered request, with method, route template, status, duration and
bytes sent as fields. It leaves out the path's identifiers, query strings and header values."""

from __future__ import annotations

import time
from typing import Any, Final

import structlog

from entrypoints.http.head_requests import method_of
from entrypoints.http.metrics import OTHER_METHOD, UNMATCHED, known_method
from entrypoints.http.request_context import request_id_of
from entrypoints.http.response_headers import started_at
from entrypoints.logging_setup import structured_logger

LOGGER_NAME: Final = "mfa.access"

_STATUS: Final = "mfa_status"
_BYTES: Final = "mfa_bytes_sent"


async def log_access(message: Any, scope: Any) -> None:
    """``before_send`` hook: notes the status, counts the body's bytes, and writes the line with the
    last body message. Then the request's log context ends."""
    kind = message["type"]
    if kind == "http.response.start":
        scope[_STATUS] = message["status"]
        return
    if kind != "http.response.body":
        return
    scope[_BYTES] = scope.get(_BYTES, 0) + len(message.get("body", b""))
    if message.get("more_body", False):
        return
    started = started_at(scope)
    method = method_of(scope)
    structured_logger().info(
        "request",
        logger=LOGGER_NAME,
        request_id=request_id_of(scope),
        method=method if known_method(method) else OTHER_METHOD,
        route=scope.get("path_template") or UNMATCHED,
        status=scope.get(_STATUS),
        duration_ms=round((time.perf_counter() - started) * 1000, 2) if started else None,
        bytes=0 if method == "HEAD" else scope[_BYTES],
    )
    structlog.contextvars.clear_contextvars()
