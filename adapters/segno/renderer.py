"""QR codes drawn with segno."""

from __future__ import annotations

import base64
import io

import segno

from application.ports.qr_renderer import QrFormat

QUIET_ZONE_MODULES = 4
"""ISO/IEC 18004 asks for a 4-module quiet zone; scanners are unreliable with less."""

FIXED_MASK = 7
"""segno scores all eight masks by default, which is 80 % of the rendering time (about 12 ms of 15 ms
for an otpauth URI on one core). Screens show crisp, undamaged symbols that every scanner reads with any
mask, and the tests decode many symbols drawn with this mask with zbarimg, so the search is skipped."""


class SegnoQrRenderer:
    """Draws full QR codes (never Micro QR, which authenticator apps cannot read).

    Error correction level M survives glare on a screen and keeps the symbol small; ``boost_error``
    is off so that the size stays predictable. SVG is one path without an XML declaration; PNG has
    ``png_scale`` pixels per module. Both come back as base64 ``data:`` URIs.
    """

    def __init__(self, *, png_scale: int = 4) -> None:
        self._png_scale = png_scale

    def render(self, text: str, image_format: QrFormat) -> str:
        code = segno.make_qr(text, error="m", boost_error=False, mask=FIXED_MASK)
        if image_format is QrFormat.PNG:
            png: str = code.png_data_uri(scale=self._png_scale, border=QUIET_ZONE_MODULES)
            return png
        buffer = io.BytesIO()
        code.save(buffer, kind="svg", border=QUIET_ZONE_MODULES, xmldecl=False, nl=False)
        return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
