"""Counts the reads of the identity provider's signing keys and their failures."""

from __future__ import annotations

from joserfc.jwk import KeySet

from adapters.jwt.jwks_source import JwksSource, JwksUnavailable
from adapters.prometheus.dependencies import JWKS_FETCHES
from adapters.prometheus.measured_cipher import measured

_OK = JWKS_FETCHES.labels("ok")
_FAILED = JWKS_FETCHES.labels("failed")


class CountedJwksSource:
    """Implements JwksSource by delegating; counts each fetch as ``ok`` or ``failed`` and times it
    as the ``jwks`` dependency's ``fetch``."""

    def __init__(self, inner: JwksSource) -> None:
        self._inner = inner

    async def fetch(self) -> KeySet:
        try:
            with measured("jwks", "fetch"):
                keys = await self._inner.fetch()
        except JwksUnavailable:
            _FAILED.inc()
            raise
        _OK.inc()
        return keys
