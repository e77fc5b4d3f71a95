"""A SecretCipher whose calls are client spans (``vault decrypt``), at the port: whatever client
the Vault adapter uses inside, its HTTP spans (httpx or urllib3 instrumentation) nest under these."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

from opentelemetry.trace import SpanKind, Tracer
from opentelemetry.util.types import AttributeValue

from adapters.opentelemetry.spans import span
from application.ports.secret_cipher import SecretCipher, SecretOwner
from domain.secret import TotpSecret


class TracedCipher:
    """Implements SecretCipher by delegating, one span per call named ``{dependency} {method}``."""

    def __init__(self, inner: SecretCipher, dependency: str, tracer: Tracer) -> None:
        self._inner = inner
        self._dependency = dependency
        self._tracer = tracer

    async def encrypt(self, secret: TotpSecret, owner: SecretOwner) -> str:
        with self._span("encrypt"):
            return await self._inner.encrypt(secret, owner)

    async def decrypt(self, ciphertext: str, owner: SecretOwner) -> TotpSecret:
        with self._span("decrypt"):
            return await self._inner.decrypt(ciphertext, owner)

    async def rewrap(self, sealed: Sequence[tuple[str, SecretOwner]]) -> list[str]:
        with self._span("rewrap", items=len(sealed)):
            return await self._inner.rewrap(sealed)

    async def newest_key_version(self) -> int:
        with self._span("newest_key_version"):
            return await self._inner.newest_key_version()

    def key_version(self, ciphertext: str) -> int:
        return self._inner.key_version(ciphertext)

    def _span(self, operation: str, items: int = 1) -> AbstractContextManager[None]:
        attributes: dict[str, AttributeValue] = {
            "peer.service": self._dependency,
            "mfa.operation": operation,
            "mfa.items": items,
        }
        return span(self._tracer, f"{self._dependency} {operation}", attributes, SpanKind.CLIENT)
