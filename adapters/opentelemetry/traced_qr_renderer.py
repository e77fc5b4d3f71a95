"""A QrRenderer whose drawings are spans (``qr render``), with the image format only."""

from __future__ import annotations

from opentelemetry.trace import Tracer

from adapters.opentelemetry.spans import span
from application.ports.qr_renderer import QrFormat, QrRenderer


class TracedQrRenderer:
    """Implements QrRenderer by delegating. The text drawn (an otpauth URI) is never recorded."""

    def __init__(self, inner: QrRenderer, tracer: Tracer) -> None:
        self._inner = inner
        self._tracer = tracer

    def render(self, text: str, image_format: QrFormat, scale: int) -> str:
        with span(self._tracer, "qr render", {"mfa.qr.format": str(image_format)}):
            return self._inner.render(text, image_format, scale)
