"""A TokenVerifier whose checks are spans (``token check``): the outcome's class, never the token
or its claims."""

from __future__ import annotations

from opentelemetry.trace import Tracer

from adapters.opentelemetry.spans import span
from application.ports.token_verifier import Principal, TokenVerifier


class TracedTokenVerifier:
    """Implements TokenVerifier by delegating; a refused token shows as the span's error class."""

    def __init__(self, inner: TokenVerifier, tracer: Tracer) -> None:
        self._inner = inner
        self._tracer = tracer

    async def verify(self, token: str) -> Principal:
        with span(self._tracer, "token check"):
            return await self._inner.verify(token)
