"""Trace export: off unless the OTEL_* variables ask for it, and never more spans waiting than the
queue holds: the rest are dropped and counted, and so are spans of a failed export."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from adapters.opentelemetry.export import BoundedSpanProcessor, export_requested

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}


def test_export_is_off_unless_the_variables_ask_for_it() -> None:
    assert not export_requested({})
    assert export_requested(ENDPOINT)
    assert export_requested(
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}
    )
    assert export_requested({"OTEL_TRACES_EXPORTER": "otlp"})
    assert not export_requested({**ENDPOINT, "OTEL_TRACES_EXPORTER": "none"})
    assert not export_requested({**ENDPOINT, "OTEL_SDK_DISABLED": "true"})


def test_an_exporter_the_service_does_not_ship_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="otlp or none"):
        export_requested({"OTEL_TRACES_EXPORTER": "zipkin"})


class StuckExporter(SpanExporter):
    """Blocks its first export until released; fails when told to."""

    def __init__(self, result: SpanExportResult = SpanExportResult.SUCCESS) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.exported: list[str] = []
        self.result = result

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.entered.set()
        assert self.release.wait(120), "the test never released the exporter"
        self.exported += [span.name for span in spans]
        return self.result


def _run(exporter: StuckExporter, spans: int) -> list[int]:
    dropped: list[int] = []
    processor = BoundedSpanProcessor(
        exporter, max_queue_size=2, max_batch=2, on_dropped=dropped.append
    )
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    for name in ("first", "second"):
        tracer.start_span(name).end()
    assert exporter.entered.wait(120), "the batch processor never exported"
    for number in range(spans):
        tracer.start_span(f"later {number}").end()
    exporter.release.set()
    provider.shutdown()
    return dropped


def test_spans_beyond_the_queue_are_dropped_and_counted_while_the_collector_hangs() -> None:
    exporter = StuckExporter()

    dropped = _run(exporter, spans=5)

    assert sum(dropped) == 3
    assert exporter.exported == ["first", "second", "later 0", "later 1"]


def test_spans_of_a_failed_export_are_counted() -> None:
    dropped = _run(StuckExporter(SpanExportResult.FAILURE), spans=1)

    assert sum(dropped) == 3
