"""The otpauth URI that authenticator apps scan (Google's Key URI Format).

Format: ``otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30``.
The label is percent-encoded as RFC 3986 asks (a space is ``%20``, never ``+``); neither the issuer
nor the account name may contain a colon; ``issuer=`` repeats the label's prefix so that apps that
read either show the same name; the secret is base32 without padding.

A URI is at most ``MAX_URI_LENGTH`` characters, so that its QR code stays one a phone reads from a
screen; each label part is NFC text of at most ``MAX_LABEL_PART`` code points without control, format
(bidi override, isolate, mark) or separator characters other than the space.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from domain.errors import InvalidOtpauthLabel
from domain.policy import TotpPolicy
from domain.secret import SECRET_BYTES, TotpSecret
from domain.visible_text import prints, shows_something

MAX_LABEL_PART: Final = 64
"""Code points in the issuer or the account name: what an app's list shows in one or two lines."""

MAX_URI_LENGTH: Final = 213
"""The bytes a version 10 QR symbol holds at error correction level M (ISO/IEC 18004 Table 7, byte
mode). Version 10 is 57 x 57 modules: at 4 px a module, with its quiet zone, 260 px, which phone
cameras read from a screen at arm's length; denser symbols (versions 30+, which 64-character names
gave) need the phone held still and close. A URI of default parameters with an issuer and account of
a dozen ASCII characters each is about 140 bytes (version 7 or 8)."""


def _check_part(kind: str, text: str) -> None:
    if not shows_something(text):
        raise InvalidOtpauthLabel(f"the {kind} must show at least one visible character")
    if len(text) > MAX_LABEL_PART:
        raise InvalidOtpauthLabel(f"the {kind} must be at most {MAX_LABEL_PART} characters")
    if ":" in text:
        raise InvalidOtpauthLabel(f"the {kind} must not contain ':'")
    if not all(map(prints, text)):
        raise InvalidOtpauthLabel(f"the {kind} must be printable (no control or bidi characters)")
    if text != text.strip():
        raise InvalidOtpauthLabel(f"the {kind} must not start or end with a space")
    if not unicodedata.is_normalized("NFC", text):
        raise InvalidOtpauthLabel(f"the {kind} must be in Unicode normal form C")


@dataclass(frozen=True, slots=True)
class OtpauthLabel:
    """``Issuer:account`` as shown in the authenticator app.

    Raises:
        InvalidOtpauthLabel: an empty, overlong or non-printable part, or a colon in either part.
    """

    issuer: str
    account_name: str

    def __post_init__(self) -> None:
        _check_part("issuer", self.issuer)
        _check_part("account name", self.account_name)


def encoded_length(text: str) -> int:
    """Characters ``text`` takes in the URI, percent-encoded."""
    return len(quote(text, safe=""))


def account_room(issuer: str, policy: TotpPolicy) -> int:
    """Characters left for the percent-encoded account name in a URI of ``MAX_URI_LENGTH``."""
    placeholder = TotpSecret(bytes(SECRET_BYTES)).base32
    return MAX_URI_LENGTH - len(_uri(placeholder, policy, quote(issuer, safe=""), ""))


def build_otpauth_uri(secret: TotpSecret, policy: TotpPolicy, label: OtpauthLabel) -> str:
    """The ``otpauth://totp/…`` URI for ``secret`` under ``policy``.

    Raises:
        InvalidOtpauthLabel: the URI would be longer than ``MAX_URI_LENGTH``.
    """
    issuer = quote(label.issuer, safe="")
    uri = _uri(secret.base32, policy, issuer, quote(label.account_name, safe=""))
    if len(uri) > MAX_URI_LENGTH:
        raise InvalidOtpauthLabel(f"the otpauth URI must be at most {MAX_URI_LENGTH} characters")
    return uri


def _uri(secret: str, policy: TotpPolicy, issuer: str, account: str) -> str:
    return (
        f"otpauth://totp/{issuer}:{account}"
        f"?secret={secret}&issuer={issuer}"
        f"&algorithm={policy.algorithm.value}&digits={policy.digits}&period={policy.period}"
    )
