"""The tracer provider the standard ``OTEL_*`` variables describe, exporting OTLP over HTTP in the
background: a request never waits for the collector, and spans that find the queue full, or whose
export failed, are dropped and counted."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

DEFAULT_QUEUE: Final = 2048
"""Spans waiting for export at most (``OTEL_BSP_MAX_QUEUE_SIZE``, the SDK's default)."""
DEFAULT_BATCH: Final = 512
"""Spans per export at most (``OTEL_BSP_MAX_EXPORT_BATCH_SIZE``), never above the queue's size."""

Dropped = Callable[[int], None]


def export_requested(environ: Mapping[str, str]) -> bool:
    """Whether the variables ask for trace export: an OTLP endpoint or ``OTEL_TRACES_EXPORTER=otlp``,
    and not ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none``.

    Raises:
        ValueError: an exporter other than ``otlp`` or ``none`` is named.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter not in ("", "otlp", "none"):
        raise ValueError("OTEL_TRACES_EXPORTER must be otlp or none (OTLP over HTTP/protobuf)")
    if exporter:
        return exporter == "otlp"
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def tracer_provider_from_environment(
    environ: Mapping[str, str], version: str, on_dropped: Dropped
) -> TracerProvider:
    """Without export, spans are not sampled (ids still exist, for log lines, and an incoming
    ``traceparent``'s trace id is kept); with export, the sampler is ``OTEL_TRACES_SAMPLER``'s."""
    attributes: dict[str, str] = {"service.version": version}
    if not environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = "mfa-service"
    resource = Resource.create(attributes)
    if not export_requested(environ):
        return TracerProvider(sampler=ALWAYS_OFF, resource=resource)
    provider = TracerProvider(resource=resource)
    queue = int(environ.get("OTEL_BSP_MAX_QUEUE_SIZE", "") or DEFAULT_QUEUE)
    batch = int(environ.get("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "") or DEFAULT_BATCH)
    exporter = OTLPSpanExporter()
    provider.add_span_processor(
        BoundedSpanProcessor(exporter, queue, min(batch, queue), on_dropped)
    )
    return provider


class BoundedSpanProcessor(SpanProcessor):
    """Hands ended spans to a BatchSpanProcessor while fewer than ``max_queue_size`` wait for
    export; a span beyond that, and every span of a failed export, is dropped and counted."""

    def __init__(
        self, exporter: SpanExporter, max_queue_size: int, max_batch: int, on_dropped: Dropped
    ) -> None:
        self._max = max_queue_size
        self._waiting = 0
        self._lock = threading.Lock()
        self._on_dropped = on_dropped
        counting = _CountingExporter(exporter, self._taken, on_dropped)
        self._batch = BatchSpanProcessor(
            counting, max_queue_size=max_queue_size, max_export_batch_size=max_batch
        )

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self._batch.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is None or not span.context.trace_flags.sampled:
            return
        with self._lock:
            full = self._waiting >= self._max
            if not full:
                self._waiting += 1
        if full:
            self._on_dropped(1)
            return
        self._batch.on_end(span)

    def shutdown(self) -> None:
        self._batch.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._batch.force_flush(timeout_millis)

    def _taken(self, count: int) -> None:
        with self._lock:
            self._waiting -= count


class _CountingExporter(SpanExporter):
    def __init__(self, inner: SpanExporter, taken: Callable[[int], None], failed: Dropped) -> None:
        self._inner = inner
        self._taken = taken
        self._failed = failed

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self._taken(len(spans))
        result = self._inner.export(spans)
        if result is not SpanExportResult.SUCCESS:
            self._failed(len(spans))
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)
