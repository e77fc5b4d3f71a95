"""SVG and PNG images of a QR code's module matrix, black on white with a quiet zone.

segno's own writers take 1 ms (SVG) and 2.3 ms (PNG) of pure Python per symbol of an otpauth URI;
these draw the same symbol from segno's matrix with C-level string and zlib work in about 0.4 ms.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Sequence
from typing import Final

Matrix = Sequence[bytes | bytearray]
"""One row per line of modules, one byte per module: 1 is dark, 0 is light."""

_DARK_RUNS: Final = re.compile(rb"\x01+")
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_GRAYSCALE_1_BIT: Final = (1, 0, 0, 0, 0)
"""IHDR after the size: bit depth 1, greyscale, deflate, no filter method, no interlace."""
_NO_FILTER: Final = b"\x00"


def svg_image(matrix: Matrix, border: int, scale: int) -> bytes:
    """An SVG of one unit per module (``viewBox``) shown at ``scale`` px per module (its intrinsic
    size): a white square, and one horizontal stroke per dark run."""
    size = len(matrix) + 2 * border
    pixels = size * scale
    strokes = []
    pen_x = pen_y = 0
    for y, row in enumerate(matrix, start=border):
        for run in _DARK_RUNS.finditer(row):
            x = run.start() + border
            strokes.append(f"m{x - pen_x} {y - pen_y}h{run.end() - run.start()}")
            pen_x, pen_y = run.end() + border, y
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{pixels}" height="{pixels}" '
        f'viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<path fill="#fff" d="M0 0h{size}v{size}H0z"/>'
        f'<path stroke="#000" d="M0 .5{"".join(strokes)}"/></svg>'
    ).encode("ascii")


def png_image(matrix: Matrix, border: int, scale: int) -> bytes:
    """A 1-bit greyscale PNG with ``scale`` pixels per module."""
    width = (len(matrix) + 2 * border) * scale
    light, dark = "1" * scale, "0" * scale
    bits_of = {0: light, 1: dark}
    margin = light * border
    light_line = _scanline(light * (len(matrix) + 2 * border), width)
    lines = [light_line * (border * scale)]
    for row in matrix:
        bits = margin + "".join(map(bits_of.__getitem__, row)) + margin
        lines.append(_scanline(bits, width) * scale)
    lines.append(light_line * (border * scale))
    header = struct.pack(">IIBBBBB", width, width, *_GRAYSCALE_1_BIT)
    pixels = zlib.compress(b"".join(lines), 9)
    return _PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def _scanline(bits: str, width: int) -> bytes:
    padded = bits + "0" * (-width % 8)
    return _NO_FILTER + int(padded, 2).to_bytes(len(padded) // 8, "big")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
