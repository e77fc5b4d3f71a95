"""QR codes decoded by an independent reader (zbarimg, Debian zbar-tools)."""

import base64
import os
import subprocess
from pathlib import Path

import pytest

from adapters.segno.renderer import SegnoQrRenderer
from application.ports.qr_renderer import QrFormat
from domain.otpauth import OtpauthLabel, build_otpauth_uri
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
    assert _zbar_decode(_png(SegnoQrRenderer().render(uri, QrFormat.PNG)), tmp_path) == uri


def test_many_random_secrets_all_decode_with_the_fixed_mask(tmp_path: Path) -> None:
    renderer = SegnoQrRenderer()
    for _ in range(25):
        uri = build_otpauth_uri(
            TotpSecret.from_entropy(os.urandom(20)), TotpPolicy(), OtpauthLabel("Bank", "alice")
        )
        assert _zbar_decode(_png(renderer.render(uri, QrFormat.PNG)), tmp_path) == uri


def test_svg_is_a_base64_data_uri_of_an_svg_image() -> None:
    data_uri = SegnoQrRenderer().render("otpauth://totp/A:b?secret=AAAA", QrFormat.SVG)
    prefix = "data:image/svg+xml;base64,"
    assert data_uri.startswith(prefix)
    svg = base64.b64decode(data_uri[len(prefix) :]).decode()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
