"""The Vault transport's connections: each request has a kept-alive connection to itself, from
the moment it is sent until its answer is closed.

httpcore's own pool hands an idle connection to a request but only marks it busy once the request
starts on it, a few turns of the event loop later. Meanwhile other requests are handed the same
connection; all but one find it taken and go back to the queue (encode/httpcore#822, #1110). On a
busy event loop a request lost that race again and again: 0.3 to 1.7 s for an exchange Vault
answered in a millisecond, and the 2 s timeouts of the bench at concurrency 16.

Here a connection is taken out of the idle list before the request is sent, and put back (or
closed) when the answer is. The caller bounds how many requests run at once (``VaultTransport``'s
turns); the pool keeps at most that many idle connections.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable

import httpcore


class ExclusiveConnectionPool:
    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        max_idle: int,
        keepalive_expiry: float | None,
        network_backend: httpcore.AsyncNetworkBackend,
    ) -> None:
        self._ssl_context = ssl_context
        self._max_idle = max_idle
        self._keepalive_expiry = keepalive_expiry
        self._network_backend = network_backend
        self._idle: list[httpcore.AsyncHTTPConnection] = []

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        connection = await self._take(request.url.origin)
        try:
            response = await connection.handle_async_request(request)
        except BaseException:
            await self._give_back(connection)
            raise
        assert isinstance(response.stream, AsyncIterable)
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=_Released(response.stream, lambda: self._give_back(connection)),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.aclose()

    async def _take(self, origin: httpcore.Origin) -> httpcore.AsyncHTTPConnection:
        while self._idle:
            connection = self._idle.pop()  # the most recently used: the least likely to expire
            if connection.can_handle_request(origin) and not connection.has_expired():
                return connection
            await connection.aclose()
        return httpcore.AsyncHTTPConnection(
            origin,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._keepalive_expiry,
            network_backend=self._network_backend,
        )

    async def _give_back(self, connection: httpcore.AsyncHTTPConnection) -> None:
        reusable = connection.is_idle() and not connection.has_expired()
        if reusable and len(self._idle) < self._max_idle:
            self._idle.append(connection)
        else:
            await connection.aclose()


class _Released:
    """The answer's body; closing it closes the exchange, then gives the connection back."""

    def __init__(
        self, stream: AsyncIterable[bytes], give_back: Callable[[], Awaitable[None]]
    ) -> None:
        self._stream = stream
        self._give_back = give_back
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._stream, "aclose", None)
            if close is not None:
                await close()
        finally:
            await self._give_back()
