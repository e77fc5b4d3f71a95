from enum import StrEnum
from typing import Final, Protocol


class QrFormat(StrEnum):
    """Image formats for the QR code."""

    SVG = "svg"
    PNG = "png"


MIN_QR_SCALE: Final = 4
"""Pixels per module below which, at device scale 1, screenshot readers already fail."""
MAX_QR_SCALE: Final = 16
DEFAULT_QR_SCALE: Final = 5
"""A version 8 symbol (an otpauth URI of default parameters and short names) with its quiet zone
is 57 modules: 285 px, which fits a 320 px wide phone screen."""


class QrRenderer(Protocol):
    """Draws a QR code as a ``data:`` URI ready for ``<img src>``."""

    def render(self, text: str, image_format: QrFormat, scale: int) -> str:
        """A full (never Micro) QR code of ``text`` that decodes back to exactly ``text``, drawn at
        ``scale`` pixels per module (between ``MIN_QR_SCALE`` and ``MAX_QR_SCALE``; the SVG's
        intrinsic size, the PNG's pixels)."""
        ...
