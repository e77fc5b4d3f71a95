"""AES-256-GCM encryption of TOTP secrets with local keys, for the embedded default."""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.errors import SecretUnreadable
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret

NONCE_BYTES = 12
_CIPHERTEXT = re.compile(r"local:v([1-9][0-9]{0,8}):([A-Za-z0-9_-]+={0,2})")


class LocalAesGcmCipher:
    """Implements SecretCipher with AES-256-GCM, a random 96-bit nonce per encryption, and a key ring.

    The owner's binding is the associated data, so a ciphertext moved to another user's or
    enrollment's row fails authentication. The newest key encrypts; every key in the ring decrypts.
    Stored form: ``local:v<version>:`` + base64url(nonce || ciphertext || tag).
    """

    def __init__(self, key_ring: Mapping[int, bytes]) -> None:
        if not key_ring:
            raise ValueError("the key ring is empty")
        self._keys = {version: AESGCM(key) for version, key in key_ring.items()}
        self._newest = max(self._keys)

    async def encrypt(self, secret: TotpSecret, owner: SecretOwner) -> str:
        return self._seal(secret.key, owner)

    async def decrypt(self, ciphertext: str, owner: SecretOwner) -> TotpSecret:
        return TotpSecret.from_bytes(self._open(ciphertext, owner))

    async def rewrap(self, sealed: Sequence[tuple[str, SecretOwner]]) -> list[str]:
        return [self._seal(self._open(ciphertext, owner), owner) for ciphertext, owner in sealed]

    async def newest_key_version(self) -> int:
        return self._newest

    def key_version(self, ciphertext: str) -> int:
        return self._parse(ciphertext)[0]

    def _seal(self, plaintext: bytes, owner: SecretOwner) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._newest].encrypt(nonce, plaintext, owner.binding())
        encoded = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"local:v{self._newest}:{encoded}"

    def _open(self, ciphertext: str, owner: SecretOwner) -> bytes:
        version, blob = self._parse(ciphertext)
        key = self._keys.get(version)
        if key is None:
            raise SecretUnreadable("the ciphertext's key version is not in the key ring")
        try:
            return key.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], owner.binding())
        except (InvalidTag, ValueError) as error:
            raise SecretUnreadable("the ciphertext failed authentication") from error

    @staticmethod
    def _parse(ciphertext: str) -> tuple[int, bytes]:
        match = _CIPHERTEXT.fullmatch(ciphertext)
        if match is None:
            raise SecretUnreadable("not a local ciphertext")
        try:
            return int(match.group(1)), base64.urlsafe_b64decode(match.group(2))
        except (ValueError, binascii.Error) as error:
            raise SecretUnreadable("not a local ciphertext") from error
