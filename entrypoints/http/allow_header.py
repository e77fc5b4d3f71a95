"""The ``Allow`` header of the automatic OPTIONS answer lists every method of the resource.

Litestar fills it from the route handler that answered, which knows only its own method when several
handlers share a path (``Allow: OPTIONS, POST`` on ``/settings/MfaSecret``, which also answers GET).
The route itself knows them all. (Its 405 answers list them all already.)
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope


async def allow_every_method(message: Message, scope: Scope) -> None:
    """``before_send`` hook: rewrites an OPTIONS answer's ``Allow`` from the matched route."""
    scope_dict: Any = scope
    if message["type"] != "http.response.start" or scope_dict.get("method") != "OPTIONS":
        return
    headers = MutableScopeHeaders.from_message(message)
    if "allow" not in headers:
        return
    template = scope_dict.get("path_template")
    for route in scope_dict["app"].routes:
        if isinstance(route, HTTPRoute) and route.path_format == template:
            headers["Allow"] = ", ".join(sorted(route.methods))
            return
