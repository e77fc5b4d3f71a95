"""QR codes drawn with segno's encoder and the standard's mask (:mod:`adapters.segno.symbol`)."""

from __future__ import annotations

import base64

from adapters.segno.images import png_image, svg_image
from adapters.segno.symbol import encode_symbol, prepare
from application.ports.qr_renderer import MAX_QR_SCALE, MIN_QR_SCALE, QrFormat

LARGEST_VERSION = 10
"""The largest symbol an otpauth URI needs: ``domain.otpauth.MAX_URI_LENGTH`` fits version 10 at M."""

QUIET_ZONE_MODULES = 4
"""ISO/IEC 18004 asks for a 4-module quiet zone; scanners are unreliable with less."""


class SegnoQrRenderer:
    """Draws full QR codes (never Micro QR, which authenticator apps cannot read).

    Error correction level M survives glare on a screen and keeps the symbol small; the level is
    never raised, so the size stays predictable. The mask is the one the ISO/IEC 18004 penalty rule
    chooses. The images are drawn by :mod:`adapters.segno.images` (an SVG of ``scale`` px per module
    with a ``viewBox`` in modules, so it scales crisply; a PNG of ``scale`` pixels per module), both
    black on white with the quiet zone, as base64 ``data:`` URIs.
    """

    @classmethod
    def prepared(cls) -> SegnoQrRenderer:
        """A renderer whose per-version work for every otpauth URI is done now (at start-up)
        rather than on the event loop of the first requests."""
        prepare(LARGEST_VERSION)
        return cls()

    def render(self, text: str, image_format: QrFormat, scale: int) -> str:
        if not MIN_QR_SCALE <= scale <= MAX_QR_SCALE:
            raise ValueError(f"scale must be {MIN_QR_SCALE} to {MAX_QR_SCALE} pixels per module")
        matrix = encode_symbol(text).rows
        if image_format is QrFormat.PNG:
            png = png_image(matrix, QUIET_ZONE_MODULES, scale)
            return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        svg = svg_image(matrix, QUIET_ZONE_MODULES, scale)
        return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
