"""Bounded concurrency per worker: past the limit a request is answered 503 with ``Retry-After`` at
once instead of queueing behind the others (whose latency would then grow without bound).

The limit counts the requests of this worker process that are between routing and their answer;
the health and metrics routes are never shed (an orchestrator must see a busy worker as alive).
It runs before authentication, so a shed request costs neither a token check nor a body read.
"""

from __future__ import annotations

from typing import Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Middleware, Receive, Scope, Send

NEVER_SHED: Final = frozenset({"/health/live", "/health/ready", "/metrics"})
RETRY_AFTER_SECONDS: Final = 1


class Overloaded(Exception):
    """This worker already serves as many requests as it may; retry after ``retry_after`` s."""

    retry_after = RETRY_AFTER_SECONDS


class _InFlight:
    count = 0


def concurrency_limit(limit: int) -> Middleware:
    """A middleware admitting at most ``limit`` requests at a time across every route of the app
    (i.e. per worker); ``limit`` 0 admits all."""
    if limit < 0:
        raise ValueError("the concurrency limit must not be negative")
    in_flight = _InFlight()  # one for the app: Litestar wraps each route in the middleware anew

    def middleware_factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if limit == 0 or scope["type"] != ScopeType.HTTP or scope["path"] in NEVER_SHED:
                await app(scope, receive, send)
                return
            if in_flight.count >= limit:
                raise Overloaded
            in_flight.count += 1
            try:
                await app(scope, receive, send)
            finally:
                in_flight.count -= 1

        return middleware

    return middleware_factory
