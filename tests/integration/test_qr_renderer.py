"""QR codes decoded by an independent reader (zbarimg, Debian zbar-tools)."""

import base64
import os
import struct
import subprocess
from pathlib import Path

import pytest

from adapters.segno.renderer import SegnoQrRenderer
from adapters.segno.symbol import encode_symbol
from application.ports.qr_renderer import DEFAULT_QR_SCALE, MAX_QR_SCALE, MIN_QR_SCALE, QrFormat
from domain.otpauth import MAX_URI_LENGTH, OtpauthLabel, account_room, build_otpauth_uri
from domain.policy import HashAlgorithm, TotpPolicy
from domain.secret import TotpSecret


def _zbar_decode(png: bytes, tmp_path: Path) -> str:
    image = tmp_path / "qr.png"
    image.write_bytes(png)
    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(image)],
        capture_output=True,
        check=True,
        timeout=30,
    )
    return result.stdout.decode("utf-8").rstrip("\n")


def _png(data_uri: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert data_uri.startswith(prefix)
    return base64.b64decode(data_uri[len(prefix) :])


@pytest.mark.parametrize(
    ("issuer", "account", "policy"),
    [
        ("Example Bank", "alice@example.com", TotpPolicy()),
        ("Banque Générale & Cie", "zoë+test@example.com", TotpPolicy()),
        ("Bank", "a" * 64, TotpPolicy(HashAlgorithm.SHA512, 8, 60)),
    ],
)
def test_png_decodes_to_exactly_the_otpauth_uri(
    issuer: str, account: str, policy: TotpPolicy, tmp_path: Path
) -> None:
    uri = build_otpauth_uri(
        TotpSecret.from_entropy(os.urandom(20)), policy, OtpauthLabel(issuer, account)
    )
    assert (
        _zbar_decode(_png(SegnoQrRenderer().render(uri, QrFormat.PNG, DEFAULT_QR_SCALE)), tmp_path)
        == uri
    )


def test_many_random_secrets_all_decode_whichever_mask_they_get(tmp_path: Path) -> None:
    renderer = SegnoQrRenderer()
    for _ in range(25):
        uri = build_otpauth_uri(
            TotpSecret.from_entropy(os.urandom(20)), TotpPolicy(), OtpauthLabel("Bank", "alice")
        )
        assert (
            _zbar_decode(_png(renderer.render(uri, QrFormat.PNG, DEFAULT_QR_SCALE)), tmp_path)
            == uri
        )


def test_svg_is_a_base64_data_uri_of_an_svg_image() -> None:
    data_uri = SegnoQrRenderer().render("otpauth://totp/A:b?secret=AAAA", QrFormat.SVG, 6)
    prefix = "data:image/svg+xml;base64,"
    assert data_uri.startswith(prefix)
    svg = base64.b64decode(data_uri[len(prefix) :]).decode()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert 'width="222" height="222" viewBox="0 0 37 37"' in svg, "29 modules + quiet zone, 6 px"
    assert 'shape-rendering="crispEdges"' in svg


@pytest.mark.parametrize("scale", [MIN_QR_SCALE, MAX_QR_SCALE])
def test_the_longest_uri_allowed_is_a_version_10_symbol_that_decodes(
    scale: int, tmp_path: Path
) -> None:
    issuer = "Banque Générale & Cie"
    policy = TotpPolicy(HashAlgorithm.SHA512, 8, 60)
    account = "é" * (account_room(issuer, policy) // 6)
    uri = build_otpauth_uri(
        TotpSecret.from_entropy(os.urandom(20)), policy, OtpauthLabel(issuer, account)
    )
    assert MAX_URI_LENGTH - 6 < len(uri) <= MAX_URI_LENGTH
    assert encode_symbol(uri).version == 10

    png = _png(SegnoQrRenderer().render(uri, QrFormat.PNG, scale))

    assert _zbar_decode(png, tmp_path) == uri
    assert struct.unpack(">II", png[16:24]) == ((57 + 8) * scale, (57 + 8) * scale)


@pytest.mark.parametrize("scale", [0, MIN_QR_SCALE - 1, MAX_QR_SCALE + 1])
def test_a_scale_outside_the_bounds_is_refused(scale: int) -> None:
    with pytest.raises(ValueError, match="scale"):
        SegnoQrRenderer().render("otpauth://totp/A:b?secret=AAAA", QrFormat.PNG, scale)
