"""A start-up proof that ciphertexts are bound to their owner (S4), made with the service's token.

Transit silently ignores the context of a key created without ``derived``: encryption still works,
but any row's ciphertext would then decrypt for any owner. The service's policy cannot read the key's
settings, so this check proves the property itself, with encrypt and decrypt only.
"""

from __future__ import annotations

import os
import uuid

from application.errors import SecretUnreadable
from application.ports.secret_cipher import SecretCipher, SecretOwner
from domain.secret import SECRET_BYTES, TotpSecret

_CHECK_USER = "mfa-service/binding-check"


class OwnerBindingBroken(Exception):
    """The cipher does not bind ciphertexts to their owner; the service must not start."""


async def verify_owner_binding(cipher: SecretCipher) -> None:
    """Returns if a throwaway secret sealed for one owner decrypts for that owner and fails for
    another enrollment of the same user.

    Raises:
        OwnerBindingBroken: it decrypts for the other owner, or not for its own.
        DependencyUnavailable: the key service is down, sealed, too slow, or refused us.
    """
    secret = TotpSecret.from_entropy(os.urandom(SECRET_BYTES))
    owner = SecretOwner(_CHECK_USER, uuid.uuid4())
    stranger = SecretOwner(_CHECK_USER, uuid.uuid4())
    sealed = await cipher.encrypt(secret, owner)
    try:
        round_trip = await cipher.decrypt(sealed, owner)
    except SecretUnreadable:
        raise OwnerBindingBroken("a fresh ciphertext does not decrypt for its owner") from None
    if round_trip != secret:
        raise OwnerBindingBroken("a fresh ciphertext decrypts to another secret")
    try:
        await cipher.decrypt(sealed, stranger)
    except SecretUnreadable:
        return
    raise OwnerBindingBroken(
        "a ciphertext decrypts for another owner: the key ignores the context (not derived?)"
    )
