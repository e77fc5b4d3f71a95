"""The one-time code a user types: a string of exactly N ASCII digits (SECURITY.md V3)."""

from __future__ import annotations

import re

from domain.errors import InvalidCodeFormat

_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def parse_code(text: str, digits: int) -> str:
    """``text`` if it is exactly ``digits`` ASCII digits.

    pyotp and ``str.isdigit`` accept fullwidth and other Unicode digits, and integers; this accepts
    neither, so a code is checked only in the form the authenticator app shows it.

    Raises:
        InvalidCodeFormat: anything else.
    """
    if len(text) != digits or not _ASCII_DIGITS.fullmatch(text):
        raise InvalidCodeFormat(f"the code must be exactly {digits} digits 0-9")
    return text
