"""AES-256-GCM encryption of TOTP secrets with a local key, for the embedded default."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.errors import SecretUnreadable
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret

PREFIX = "local:v1:"
NONCE_BYTES = 12


class LocalAesGcmCipher:
    """Implements SecretCipher with AES-256-GCM and a random 96-bit nonce per encryption.

    The owner's binding is the associated data, so a ciphertext moved to another user's or
    enrollment's row fails authentication. Stored form: ``local:v1:`` + base64url(nonce || ciphertext || tag).
    """

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    async def encrypt(self, secret: TotpSecret, owner: SecretOwner) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.key, owner.binding())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    async def decrypt(self, ciphertext: str, owner: SecretOwner) -> TotpSecret:
        if not ciphertext.startswith(PREFIX):
            raise SecretUnreadable("not a local ciphertext")
        try:
            blob = base64.urlsafe_b64decode(ciphertext[len(PREFIX) :].encode("ascii"))
            key = self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], owner.binding())
        except (InvalidTag, ValueError, binascii.Error) as error:
            raise SecretUnreadable("the ciphertext failed authentication") from error
        return TotpSecret.from_bytes(key)
