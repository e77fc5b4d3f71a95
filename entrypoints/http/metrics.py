"""``GET /metrics``: the requests each route answered, by method and status, and how long they took
to answer, in Prometheus' text format (API.md "Operations").

Recorded in a ``before_send`` hook, so that every answer counts with the status the client got, also
those of errors raised before a handler ran (a refused token). Labels carry the route's template
(``/settings/MfaSecret/{enrollment_id}``), never an identifier, a user or a token. With several
worker processes the counts are shared through ``PROMETHEUS_MULTIPROC_DIR`` (``mfa-service serve``
sets it up before the workers import this module), so that every scrape adds up all workers.
"""

from __future__ import annotations

import os
import time
from typing import Any, Final

from litestar import Response, get
from litestar.types import Message, Scope
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from entrypoints.http.head_requests import method_of
from entrypoints.http.response_headers import started_at

METRICS_PATH: Final = "/metrics"
UNMATCHED: Final = "(unmatched)"
"""The path label of requests no route answered (an unknown path, or a method the route lacks)."""
SHED: Final = "(shed)"
"""The path label of requests shed before routing (``load_shedding``), all answered 503."""
KNOWN_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD: Final = "OTHER"
"""The method label of any other method, so that clients cannot grow the label set."""

_LABELS: Final = ("method", "path", "status_code")
REQUESTS = Counter("mfa_requests", "Requests answered.", _LABELS)
DURATION = Histogram(
    "mfa_request_duration_seconds",
    "Time from the request's arrival to its answer's headers.",
    _LABELS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


_EXPOSITION_MEDIA_TYPE: Final = "; ".join(
    parameter
    for parameter in CONTENT_TYPE_LATEST.split("; ")
    if not parameter.startswith("charset=")
)
"""prometheus_client's content type without its charset, which Litestar adds to every text type."""


def known_method(method: object) -> bool:
    return method in KNOWN_METHODS


async def record_request(message: Message, scope: Scope) -> None:
    """``before_send`` hook: counts the answer and its duration."""
    if message["type"] != "http.response.start":
        return
    scope_dict: Any = scope
    path = scope_dict.get("path_template") or UNMATCHED
    if path == METRICS_PATH:
        return
    method = method_of(scope_dict)
    labels = (method if known_method(method) else OTHER_METHOD, path, str(message["status"]))
    REQUESTS.labels(*labels).inc()
    started = started_at(scope)
    if started is not None:
        DURATION.labels(*labels).observe(time.perf_counter() - started)


def count_shed(method: object) -> None:
    """Counts a shed request's 503 (no duration: it is answered at once, from prebuilt bytes)."""
    REQUESTS.labels(method if known_method(method) else OTHER_METHOD, SHED, "503").inc()


@get(METRICS_PATH, include_in_schema=False, sync_to_thread=True)
def metrics() -> Response[bytes]:
    """Runs in a worker thread: with several workers it reads every worker's files."""
    registry: CollectorRegistry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=_EXPOSITION_MEDIA_TYPE)
