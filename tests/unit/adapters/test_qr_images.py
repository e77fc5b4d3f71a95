"""The QR images hold exactly segno's symbol: every pixel of the PNG, every module of the SVG."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
import segno

from adapters.segno.images import png_image, svg_image

TEXTS = [
    "otpauth://totp/A:b?secret=AAAA",
    "otpauth://totp/Example%20Bank:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    "&issuer=Example%20Bank&algorithm=SHA1&digits=6&period=30",
]


def _symbol(text: str) -> segno.QRCode:
    return segno.make_qr(text, error="m", boost_error=False, mask=7)


def _expected_dark(code: segno.QRCode, scale: int, border: int) -> list[list[bool]]:
    return [[bool(m) for m in row] for row in code.matrix_iter(scale=scale, border=border)]


def _png_dark_pixels(png: bytes) -> list[list[bool]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks.append((kind, data))
        at += 12 + length
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (depth, colour, compression, filtering, interlace) == (1, 0, 0, 0, 0)
    raw = zlib.decompress(chunks[1][1])
    stride = 1 + (width + 7) // 8
    assert len(raw) == height * stride
    rows = []
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0, "no filter"
        bits = "".join(f"{byte:08b}" for byte in line[1:])[:width]
        rows.append([bit == "0" for bit in bits])  # greyscale 0 is black
    return rows


def _svg_dark_modules(svg: bytes) -> tuple[int, set[tuple[int, int]]]:
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    size = int(root.attrib["width"]) // 5
    assert root.attrib["width"] == root.attrib["height"] == str(size * 5), "5 px a module"
    assert root.attrib["viewBox"] == f"0 0 {size} {size}"
    background, modules = list(root)
    assert background.attrib == {"fill": "#fff", "d": f"M0 0h{size}v{size}H0z"}
    path = modules.attrib["d"]
    assert re.fullmatch(r"M0 \.5(m-?\d+ -?\d+h\d+)*", path)
    dark: set[tuple[int, int]] = set()
    x = y = 0
    for dx, dy, run in re.findall(r"m(-?\d+) (-?\d+)h(\d+)", path):
        x, y = x + int(dx), y + int(dy)
        dark.update((x + i, y) for i in range(int(run)))
        x += int(run)
    return size, dark


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize(("scale", "border"), [(1, 4), (3, 4), (4, 4), (8, 2)])
def test_every_png_pixel_is_the_symbols(text: str, scale: int, border: int) -> None:
    code = _symbol(text)

    pixels = _png_dark_pixels(png_image(code.matrix, border, scale))

    assert pixels == _expected_dark(code, scale, border)


@pytest.mark.parametrize("text", TEXTS)
def test_every_svg_module_is_the_symbols(text: str) -> None:
    code = _symbol(text)

    size, dark = _svg_dark_modules(svg_image(code.matrix, 4, 5))

    expected = _expected_dark(code, 1, 4)
    assert size == len(expected)
    assert dark == {(x, y) for y, row in enumerate(expected) for x, d in enumerate(row) if d}
