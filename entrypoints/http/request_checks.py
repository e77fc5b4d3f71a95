"""The app's one ``before_request`` (Litestar keeps only the nearest layer's): the query string, then
the body, of every request, before the handler reads either."""

from __future__ import annotations

from typing import Any

from litestar import Request

from entrypoints.http.json_body import check_request_body
from entrypoints.http.query_parameters import check_query_string


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Returns when the request may go on to its handler; raises what the checks raise (400, 413,
    415)."""
    check_query_string(request)
    await check_request_body(request)
