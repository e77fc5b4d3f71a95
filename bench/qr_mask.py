"""CPU per QR render: the standard's mask (the product) against the fixed mask 7 (release c968e03).

Both draw the same otpauth URIs in this one process, interleaved round by round (A B A B…), so that
the noise of a shared machine falls on both alike; each figure is the median over the rounds of the
process CPU time (``time.process_time``) per render. Run: ``uv run python -m bench.qr_mask``.
"""

from __future__ import annotations

import base64
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Final

import segno

from adapters.segno.images import png_image, svg_image
from adapters.segno.renderer import QUIET_ZONE_MODULES, SegnoQrRenderer
from application.ports.qr_renderer import DEFAULT_QR_SCALE, QrFormat

URIS: Final = {
    "default parameters, short names (version 8)": (
        "otpauth://totp/Example%20Bank:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        "&issuer=Example%20Bank&algorithm=SHA1&digits=6&period=30"
    ),
    "the longest URI allowed, 213 characters (version 10)": (
        "otpauth://totp/Bank:" + "a" * 107 + "?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        "&issuer=Bank&algorithm=SHA1&digits=6&period=30"
    ),
}
ROUNDS: Final = 15
CALLS: Final = 40


def fixed_mask_7(text: str, image_format: QrFormat) -> str:
    """What release c968e03's SegnoQrRenderer did: segno with mask 7, then the same image writers
    (then at 1 unit a module for SVG, 4 px for PNG; the product now draws 5 px, a little more work)."""
    matrix = segno.make_qr(text, error="m", boost_error=False, mask=7).matrix
    if image_format is QrFormat.PNG:
        png = png_image(matrix, QUIET_ZONE_MODULES, 4)
        return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    svg = svg_image(matrix, QUIET_ZONE_MODULES, 1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _cpu_ms(render: Callable[[], str]) -> float:
    start = time.process_time()
    for _ in range(CALLS):
        render()
    return (time.process_time() - start) * 1000 / CALLS


def main() -> None:
    renderer = SegnoQrRenderer()
    print("| URI | format | fixed mask 7, ms CPU | standard's mask, ms CPU | ratio |")
    print("|---|---|--:|--:|--:|")
    for name, uri in URIS.items():
        for image_format in QrFormat:
            base: list[float] = []
            head: list[float] = []
            old = partial(fixed_mask_7, uri, image_format)
            new = partial(renderer.render, uri, image_format, DEFAULT_QR_SCALE)
            for _ in range(ROUNDS):
                base.append(_cpu_ms(old))
                head.append(_cpu_ms(new))
            before, after = statistics.median(base), statistics.median(head)
            print(
                f"| {name} | {image_format.value} | {before:.2f} | {after:.2f} "
                f"| {after / before:.2f} |"
            )


if __name__ == "__main__":
    main()
