"""Recovery codes: single-use codes for a lost phone (SECURITY.md V6).

A code is 16 characters of Crockford's base32 (80 bits from a CSPRNG) shown in groups of four,
``K7QM-2D9V-XR4T-8BNA``. Typing is forgiving: case, spaces and hyphens do not matter, and the letters
Crockford's alphabet leaves out are read as the digits they look like (O as 0, I and L as 1). Only a
salted SHA-256 of each code is stored; 80 random bits make an offline search hopeless without a slow
hash.
"""

from __future__ import annotations

import hashlib

from domain.errors import InvalidCodeFormat

CODES_PER_SET = 10
CODE_LENGTH = 16
GROUP = 4
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def format_recovery_code(entropy: bytes) -> str:
    """A code from 10 random bytes (80 bits), grouped for reading."""
    if len(entropy) != CODE_LENGTH * 5 // 8:
        raise ValueError("a recovery code takes exactly 10 random bytes")
    number = int.from_bytes(entropy, "big")
    characters = [ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH))]
    text = "".join(characters)
    return "-".join(text[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalise_recovery_code(typed: str) -> str:
    """The canonical 16 characters of a typed code.

    Raises:
        InvalidCodeFormat: not 16 characters of the alphabet once spaces and hyphens are dropped.
    """
    text = typed.upper().translate(_LOOKALIKES)
    if len(text) != CODE_LENGTH or not all(character in ALPHABET for character in text):
        raise InvalidCodeFormat(
            "a recovery code is 16 letters and digits, e.g. K7QM-2D9V-XR4T-8BNA", "recoveryCode"
        )
    return text


def hash_recovery_code(user_id: str, typed: str) -> str:
    """The stored form of a code: SHA-256 over the user and the canonical code, in hex.

    Raises:
        InvalidCodeFormat: see :func:`normalise_recovery_code`.
    """
    canonical = normalise_recovery_code(typed)
    user = user_id.encode("utf-8")
    material = b"mfa-recovery/v1/" + len(user).to_bytes(4, "big") + user + canonical.encode("ascii")
    return hashlib.sha256(material).hexdigest()
