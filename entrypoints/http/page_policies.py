"""The policies of the pages the service serves (the OpenAPI viewer, the reference enrollment
page), on every answer under their paths: the page, its assets, and the 404 or 405 that none of
their handlers answers (a router's ``after_request`` sees its handlers' responses only)."""

from __future__ import annotations

from typing import Any, Final

from litestar import Response
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotFoundException
from litestar.types import Message, Scope

SCHEMA_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
UI_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS: Final[dict[str, dict[str, str]]] = {
    "/schema": {"Content-Security-Policy": SCHEMA_POLICY},
    "/ui": {"Content-Security-Policy": UI_POLICY, "Referrer-Policy": "no-referrer"},
}
"""By path prefix: what every answer under it carries."""


async def add_page_policies(message: Message, scope: Scope) -> None:
    """``before_send`` hook."""
    if message["type"] != "http.response.start":
        return
    path: str = scope["path"]
    for prefix, headers in PAGE_HEADERS.items():
        if path == prefix or path.startswith(f"{prefix}/"):
            mutable = MutableScopeHeaders.from_message(message)
            for name, value in headers.items():
                mutable[name] = value
            return


async def not_found_as_problem(response: Response[Any]) -> Response[Any]:
    """A router's ``after_request``: a static-files 404 becomes the error table's problem+json."""
    if response.status_code == 404:
        raise NotFoundException()
    return response
