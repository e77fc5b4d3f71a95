"""A SecretCipher that times each call of the one it wraps, at the port: whatever client the Vault
adapter uses inside, its operations are measured the same way."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from adapters.prometheus.dependencies import DEPENDENCY_DURATION, DEPENDENCY_ERRORS
from application.ports.secret_cipher import SecretCipher, SecretOwner
from domain.secret import TotpSecret

R = TypeVar("R")


class MeasuredCipher:
    """Implements SecretCipher by delegating; records ``mfa_dependency_duration_seconds`` and
    ``mfa_dependency_errors_total`` for ``dependency`` with the method's name as the operation."""

    def __init__(self, inner: SecretCipher, dependency: str) -> None:
        self._inner = inner
        self._dependency = dependency

    async def encrypt(self, secret: TotpSecret, owner: SecretOwner) -> str:
        return await self._timed("encrypt", lambda: self._inner.encrypt(secret, owner))

    async def decrypt(self, ciphertext: str, owner: SecretOwner) -> TotpSecret:
        return await self._timed("decrypt", lambda: self._inner.decrypt(ciphertext, owner))

    async def rewrap(self, sealed: Sequence[tuple[str, SecretOwner]]) -> list[str]:
        return await self._timed("rewrap", lambda: self._inner.rewrap(sealed))

    async def newest_key_version(self) -> int:
        return await self._timed("newest_key_version", self._inner.newest_key_version)

    def key_version(self, ciphertext: str) -> int:
        return self._inner.key_version(ciphertext)

    async def _timed(self, operation: str, call: Callable[[], Awaitable[R]]) -> R:
        with measured(self._dependency, operation):
            return await call()


@contextmanager
def measured(dependency: str, operation: str) -> Iterator[None]:
    """Times the block; an exception leaving it is counted by its class, then goes on."""
    started = time.perf_counter()
    try:
        yield
    except Exception as error:
        DEPENDENCY_ERRORS.labels(dependency, operation, type(error).__name__).inc()
        raise
    finally:
        DEPENDENCY_DURATION.labels(dependency, operation).observe(time.perf_counter() - started)
