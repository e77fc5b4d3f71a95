"""The shared TOTP secret (RFC 4226 section 4, RFC 6238 section 5.1)."""

from __future__ import annotations

import base64
import hmac
from typing import Final

from domain.errors import InvalidSecret

SECRET_BYTES: Final = 20
"""160 bits: the length RFC 4226 section 4 recommends and HMAC-SHA1 uses as its block of key."""

MINIMUM_SECRET_BYTES: Final = 16
"""128 bits: the shortest secret RFC 4226 section 4 allows."""


class TotpSecret:
    """The key shared with the authenticator app.

    It never prints itself: ``repr`` and ``str`` hide the value, so a secret that reaches a log or a
    traceback shows as ``TotpSecret(<hidden>)``. Create one with :meth:`from_entropy` (fresh bytes from
    a CSPRNG) or :meth:`from_bytes` (bytes just decrypted).
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < MINIMUM_SECRET_BYTES:
            raise InvalidSecret(f"a TOTP secret needs at least {MINIMUM_SECRET_BYTES} bytes")
        self._key = bytes(key)

    @classmethod
    def from_entropy(cls, entropy: bytes) -> TotpSecret:
        """A new secret from exactly ``SECRET_BYTES`` bytes that the caller drew from a CSPRNG."""
        if len(entropy) != SECRET_BYTES:
            raise InvalidSecret(f"a new TOTP secret takes exactly {SECRET_BYTES} random bytes")
        return cls(entropy)

    @classmethod
    def from_bytes(cls, key: bytes) -> TotpSecret:
        """A secret read back from storage."""
        return cls(key)

    @property
    def key(self) -> bytes:
        """The raw key bytes, for the HMAC and for encryption."""
        return self._key

    @property
    def base32(self) -> str:
        """RFC 4648 base32 without the ``=`` padding, as authenticator apps expect."""
        return base64.b32encode(self._key).decode("ascii").rstrip("=")

    @property
    def grouped(self) -> str:
        """The base32 text in groups of four, for typing by hand."""
        text = self.base32
        return " ".join(text[i : i + 4] for i in range(0, len(text), 4))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TotpSecret):
            return NotImplemented
        return hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return "TotpSecret(<hidden>)"

    __str__ = __repr__
