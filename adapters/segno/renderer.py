"""QR codes drawn with segno."""

from __future__ import annotations

import base64

import segno

from adapters.segno.images import png_image, svg_image
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
    is off so that the size stays predictable. segno encodes the symbol; the images are drawn by
    :mod:`adapters.segno.images` (SVG of one unit per module, PNG of ``png_scale`` pixels per module),
    both black on white with the quiet zone, as base64 ``data:`` URIs.
    """

    def __init__(self, *, png_scale: int = 4) -> None:
        self._png_scale = png_scale

    def render(self, text: str, image_format: QrFormat) -> str:
        matrix = segno.make_qr(text, error="m", boost_error=False, mask=FIXED_MASK).matrix
        if image_format is QrFormat.PNG:
            png = png_image(matrix, QUIET_ZONE_MODULES, self._png_scale)
            return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        svg = svg_image(matrix, QUIET_ZONE_MODULES)
        return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
