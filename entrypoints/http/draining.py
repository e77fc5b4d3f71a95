"""Whether this process is draining before it stops: the server that runs the app (see
``entrypoints.graceful_server``) puts one ``Draining`` into the ASGI lifespan state, which the
server hands to every request's scope; readiness answers 503 from the moment a stop begins, so
that a load balancer takes the process out of rotation while it still serves."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request

DRAINING_STATE_KEY: Final = "mfa.draining"


class Draining:
    """Set once, by the server's signal handler; read by readiness."""

    def __init__(self) -> None:
        self._started = False

    @property
    def started(self) -> bool:
        return self._started

    def begin(self) -> None:
        self._started = True


def is_draining(request: Request[Any, Any, Any]) -> bool:
    """True once the server running this app has begun to stop (never under a server that does
    not announce it, such as the in-process test client)."""
    state = request.scope.get("state") or {}
    draining = state.get(DRAINING_STATE_KEY)
    return isinstance(draining, Draining) and draining.started
