"""The server span of each request, through OpenTelemetry's ASGI instrumentation (Litestar's
plugin): a W3C ``traceparent`` is continued, the span is named by the route template once routing
is done, and the query string never reaches an attribute."""

from __future__ import annotations

from typing import Any, Final

from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from opentelemetry import trace
from opentelemetry.trace import Span, TracerProvider

from entrypoints.http.head_requests import method_of
from entrypoints.http.metrics import OTHER_METHOD, UNMATCHED, known_method

UNTRACED: Final = ["^/health/", "^/metrics$", "^/schema"]

_WHOLE_URLS: Final = ("http.url", "url.full")


def tracing_plugin(tracer_provider: TracerProvider | None) -> OpenTelemetryPlugin:
    """One server span per request; ``tracer_provider`` None is the global one."""
    return OpenTelemetryPlugin(
        OpenTelemetryConfig(
            tracer_provider=tracer_provider,
            exclude=UNTRACED,
            exclude_spans=["receive", "send"],
            scope_span_details_extractor=_method_only,
            server_request_hook_handler=_without_query,
        )
    )


async def name_server_span(message: Any, scope: Any) -> None:
    """``before_send`` hook: names the request's span ``METHOD /route/{template}`` (never a path
    with identifiers) and sets ``http.route``."""
    if message["type"] != "http.response.start":
        return
    span = trace.get_current_span()
    if not span.is_recording():
        return
    method = method_of(scope)
    route = scope.get("path_template") or UNMATCHED
    span.update_name(f"{method if known_method(method) else OTHER_METHOD} {route}")
    span.set_attribute("http.route", route)


def _method_only(scope: Any) -> tuple[str, dict[str, Any]]:
    method = method_of(scope)
    return (method if known_method(method) else OTHER_METHOD), {}


def _without_query(span: Span, scope: Any) -> None:
    """A query string could carry a token (RFC 6750 allows ``access_token`` there; the service
    never reads it): the URL attributes keep the path only."""
    attributes: Any = getattr(span, "attributes", None)
    if not span.is_recording() or not attributes:
        return
    if "http.target" in attributes:
        span.set_attribute("http.target", scope.get("path", ""))
    for key in _WHOLE_URLS:
        if key in attributes:
            span.set_attribute(key, str(attributes[key]).split("?", 1)[0])
    if "url.query" in attributes:
        span.set_attribute("url.query", "")
