"""The request's context that every log line carries: request id, route template, user.

Bound in context variables when the request is routed and authenticated; each request runs in its
own copy of the context, and binding starts afresh for each request.
"""

from __future__ import annotations

from typing import Final

import structlog

USER_ID: Final = "user_id"
"""The key the authenticated user's id is bound under; the log pipeline replaces it by a keyed
hash (``user``) before anything is written."""


def bind_request(request_id: str, route: str) -> None:
    """Starts the request's log context."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id, route=route)


def bind_user(user_id: str) -> None:
    structlog.contextvars.bind_contextvars(**{USER_ID: user_id})
