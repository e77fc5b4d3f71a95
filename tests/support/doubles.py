"""Adapters that fail on purpose, to prove that failures change nothing."""

from collections.abc import Sequence

from application.errors import DependencyUnavailable
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret


class UnavailableCipher:
    """A key service that is down."""

    async def encrypt(self, secret: TotpSecret, owner: SecretOwner) -> str:
        raise DependencyUnavailable("key service")

    async def decrypt(self, ciphertext: str, owner: SecretOwner) -> TotpSecret:
        raise DependencyUnavailable("key service")

    async def rewrap(self, sealed: Sequence[tuple[str, SecretOwner]]) -> list[str]:
        raise DependencyUnavailable("key service")

    async def newest_key_version(self) -> int:
        raise DependencyUnavailable("key service")

    def key_version(self, ciphertext: str) -> int:
        return 1


class BrokenQrRenderer:
    def render(self, text: str, image_format: object, scale: int) -> str:
        raise RuntimeError("renderer crashed")
