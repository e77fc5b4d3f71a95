from enum import StrEnum
from typing import Protocol


class QrFormat(StrEnum):
    """Image formats for the QR code."""

    SVG = "svg"
    PNG = "png"


class QrRenderer(Protocol):
    """Draws a QR code as a ``data:`` URI ready for ``<img src>``."""

    def render(self, text: str, image_format: QrFormat) -> str:
        """A full (never Micro) QR code of ``text`` that decodes back to exactly ``text``."""
        ...
