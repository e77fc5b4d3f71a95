"""Bounded concurrency per worker: past the limit a request is answered 503 with ``Retry-After`` at
once instead of queueing behind the others (whose latency would then grow without bound).

A request holds its place until its answer is sent, not until the app has finished with it: a
client on a kept-alive connection sends its next request as soon as it has the answer, and counting
the first one's access line and metrics would shed that request even when no more than ``limit``
clients are waiting.

The shed answer must cost far less than a served request, or under a flood the 503s take the CPU
the admitted requests need. So it is decided around the app, before Litestar routes the request,
and answered from bytes built once: the ``overloaded`` problem with the headers every answer gets
(``response_headers``, and CORS's when configured). It reads no body, checks no token, writes no
access line and no span; it counts as ``mfa_requests_total{path="(shed)",status_code="503"}``.
Health and metrics are never shed (an orchestrator must see a busy worker as alive), nor a CORS
preflight, which Litestar answers before any route.
"""

from __future__ import annotations

from typing import Final

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.enums import ScopeType
from litestar.serialization import encode_json
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Message,
    Receive,
    Scope,
    Send,
)
from litestar.utils import normalize_path

from entrypoints.http.head_requests import method_of
from entrypoints.http.metrics import count_shed
from entrypoints.http.problems import PROBLEM_JSON, overloaded_problem
from entrypoints.http.response_headers import ALWAYS, NO_STORE, ensure_request_id

NEVER_SHED: Final = frozenset({"/health/live", "/health/ready", "/metrics"})

RawHeaders = list[tuple[bytes, bytes]]


def _raw(headers: dict[str, str]) -> RawHeaders:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]


def _never_shed(path: str) -> bool:
    """Health and metrics under every spelling Litestar routes to them (``/health/live/``,
    ``/health//live``). Only a path with a trailing or doubled slash is normalized: the others
    are compared as they are."""
    if path in NEVER_SHED:
        return True
    respelt = path.endswith("/") or "//" in path
    return respelt and normalize_path(path) in NEVER_SHED


def _prebuilt_answer() -> tuple[int, RawHeaders, RawHeaders, bytes]:
    """The status, the headers before and after CORS's (as Litestar orders them; the request id
    comes last) and the body of every shed answer."""
    problem, problem_headers = overloaded_problem()
    body = encode_json(problem)
    response = {**problem_headers, "content-type": PROBLEM_JSON, "content-length": str(len(body))}
    return problem.status, _raw(response), _raw({**ALWAYS, **NO_STORE}), body


def _cors_headers(config: CORSConfig, origin: str, has_cookie: bool) -> RawHeaders:
    """What Litestar's CORS middleware adds to the answer of a request with an ``Origin``."""
    headers = dict(config.simple_headers)
    if (config.is_allow_all_origins and has_cookie) or (
        not config.is_allow_all_origins and config.is_origin_allowed(origin)
    ):
        headers["Access-Control-Allow-Origin"] = origin
        headers["Vary"] = "Origin"
    headers["Access-Control-Allow-Headers"] = ", ".join(sorted(set(config.allow_headers)))
    headers["Access-Control-Allow-Methods"] = ", ".join(sorted(set(config.allow_methods)))
    return _raw(headers)


def with_load_shedding(app: Litestar, limit: int) -> ASGIApp:
    """``app`` admitting at most ``limit`` requests at a time (i.e. per worker); 0 admits all."""
    if limit < 0:
        raise ValueError("the concurrency limit must not be negative")
    if limit == 0:
        return app
    status, response_headers, every_answer_headers, body = _prebuilt_answer()
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    cors = app.cors_config
    in_flight = 0

    async def shed(scope: HTTPScope, send: Send) -> None:
        headers = response_headers
        if cors is not None:
            request_headers = dict(scope["headers"])
            origin = request_headers.get(b"origin")
            if origin:  # an empty Origin gets no CORS headers from Litestar either
                has_cookie = b"cookie" in request_headers
                headers = headers + _cors_headers(cors, origin.decode("latin-1"), has_cookie)
        request_id = (b"x-request-id", ensure_request_id(scope).encode("latin-1"))
        count_shed(method_of(scope))
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, *every_answer_headers, request_id],
        }
        await send(start)
        await send(end)

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal in_flight
        if (
            scope["type"] != ScopeType.HTTP
            or _never_shed(scope["path"])
            or _is_preflight(scope, cors)
        ):
            await app(scope, receive, send)
            return
        if in_flight >= limit:
            await shed(scope, send)
            return
        in_flight += 1
        answered = False

        async def send_then_release(message: Message) -> None:
            # The slot is free once the answer is out: the client may send its next request on the
            # connection while the app still finishes this one (access line, metrics, span).
            nonlocal in_flight, answered
            await send(message)
            last_body = message["type"] == "http.response.body" and not message.get("more_body")
            if last_body and not answered:
                answered = True
                in_flight -= 1

        try:
            await app(scope, receive, send_then_release)
        finally:
            if not answered:
                in_flight -= 1

    return application


def _is_preflight(scope: HTTPScope, cors: CORSConfig | None) -> bool:
    return (
        cors is not None
        and scope["method"] == "OPTIONS"
        and any(name == b"origin" and value for name, value in scope["headers"])
    )
