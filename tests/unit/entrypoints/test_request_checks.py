"""Every route's query string and body pass ``check_request``: Litestar keeps only the nearest
layer's ``before_request``, so a router, controller or handler that set its own would switch the
check off for its routes without a word."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.routes import HTTPRoute

from entrypoints.http.app import HttpOptions, build_http_app
from entrypoints.http.request_checks import check_request


@asynccontextmanager
async def _nothing(_: Litestar) -> AsyncIterator[None]:
    yield


def test_every_route_checks_its_query_and_body_with_the_apps_hook() -> None:
    app = build_http_app(HttpOptions(admin_scope="mfa-admin", ui_enabled=True), _nothing)
    handlers = [
        handler
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
    ]

    assert len(handlers) > 20
    assert {str(handler): handler.resolve_before_request() for handler in handlers} == {
        str(handler): check_request for handler in handlers
    }
