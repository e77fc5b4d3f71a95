from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.secret import TotpSecret


@dataclass(frozen=True, slots=True)
class SecretOwner:
    """Whose secret a ciphertext holds. Ciphers bind every ciphertext to it (SECURITY.md S4)."""

    user_id: str
    enrollment_id: UUID

    def binding(self) -> bytes:
        """An unambiguous byte string naming the owner, for associated data or a key context."""
        user = self.user_id.encode("utf-8")
        return b"mfa-totp/v1/" + len(user).to_bytes(4, "big") + user + self.enrollment_id.bytes


class SecretCipher(Protocol):
    """Encrypts TOTP secrets for storage.

    A ciphertext decrypts only for the owner it was made for: a ciphertext copied to another user's
    or enrollment's row fails. Encrypting the same secret twice gives different ciphertexts.
    """

    async def encrypt(self, secret: TotpSecret, owner: SecretOwner) -> str:
        """A printable ciphertext of ``secret`` bound to ``owner``.

        Raises:
            DependencyUnavailable: the key service is down, sealed, too slow, or refused us.
        """
        ...

    async def decrypt(self, ciphertext: str, owner: SecretOwner) -> TotpSecret:
        """The secret inside ``ciphertext``.

        Raises:
            SecretUnreadable: the ciphertext was altered, belongs to another owner, or its key is gone.
            DependencyUnavailable: the key service is down, sealed, too slow, or refused us.
        """
        ...

    async def rewrap(self, sealed: Sequence[tuple[str, SecretOwner]]) -> list[str]:
        """Each ciphertext re-encrypted under the newest key version, in the same order, without the
        plaintext leaving the key service. Old versions stay readable until an operator retires them.

        Raises:
            SecretUnreadable: one of the ciphertexts was altered or belongs to another owner.
            DependencyUnavailable: the key service is down, sealed, too slow, or refused us.
        """
        ...

    async def newest_key_version(self) -> int:
        """The version that new and rewrapped ciphertexts are made with.

        Raises:
            DependencyUnavailable: the key service is down, sealed, too slow, or refused us.
        """
        ...

    def key_version(self, ciphertext: str) -> int:
        """The key version ``ciphertext`` was made with, read from its prefix.

        Raises:
            SecretUnreadable: the text is not a ciphertext of this cipher.
        """
        ...
