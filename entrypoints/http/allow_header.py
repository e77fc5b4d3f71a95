"""The ``Allow`` header (of the automatic OPTIONS answer, and of a 405) lists every method of the
resource, HEAD beside GET.

Litestar fills an OPTIONS answer's from the route handler that answered, which knows only its own
method when several handlers share a path (``Allow: OPTIONS, POST`` on ``/settings/MfaSecret``,
which also answers GET); the route itself knows them all. Its 405 answers list them all already.
Neither knows that the served app answers HEAD wherever it answers GET (``head_requests``).
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_405_METHOD_NOT_ALLOWED
from litestar.types import Message, Scope


async def allow_every_method(message: Message, scope: Scope) -> None:
    """``before_send`` hook: rewrites the ``Allow`` of an OPTIONS answer or a 405."""
    scope_dict: Any = scope
    if message["type"] != "http.response.start":
        return
    is_options = scope_dict.get("method") == "OPTIONS"
    if not is_options and message["status"] != HTTP_405_METHOD_NOT_ALLOWED:
        return
    headers = MutableScopeHeaders.from_message(message)
    allow = headers.get("allow")
    if allow is None:
        return
    methods = {method.strip() for method in allow.split(",")}
    if is_options:
        methods = _route_methods(scope_dict) or methods
    if "GET" in methods:
        methods.add("HEAD")
    headers["Allow"] = ", ".join(sorted(methods))


def _route_methods(scope: Any) -> set[str] | None:
    template = scope.get("path_template")
    for route in scope["app"].routes:
        if isinstance(route, HTTPRoute) and route.path_format == template:
            return set(route.methods)
    return None
