"""The Vault transport's connections, against a real HTTP/1.1 server on loopback: a request has its
connection to itself from the moment it is sent, a kept-alive connection is reused, and one that
cannot carry another exchange is never handed out again."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpcore
import pytest

from adapters.vault.asyncio_network import AsyncioBackend
from adapters.vault.connection_pool import ExclusiveConnectionPool
from tests.support.waiting import CEILING_SECONDS, eventually

TIMEOUTS = dict.fromkeys(("connect", "read", "write", "pool"), CEILING_SECONDS)


@dataclass
class Server:
    """Answers ``200 {}`` on kept-alive connections once ``release`` is set; records on which
    connection each request came."""

    port: int = 0
    requests: list[int] = field(default_factory=list)
    """The connection number of each request, in the order they arrived."""
    connections: int = 0
    open_connections: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    close_after_answer: bool = False

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_connections += 1
        number = self.connections
        try:
            while await _request(reader):
                self.requests.append(number)
                await self.release.wait()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
                if self.close_after_answer:
                    break
        except ConnectionError:
            pass  # the client closed the connection
        finally:
            self.open_connections -= 1
            writer.close()


async def _request(reader: asyncio.StreamReader) -> bool:
    """Reads one request; False at the end of the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return True


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    listening = await asyncio.start_server(state.serve, "127.0.0.1", 0)
    state.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield state
        state.release.set()  # no handler is left waiting


@pytest.fixture
async def pool(server: Server) -> AsyncIterator[ExclusiveConnectionPool]:
    connections = ExclusiveConnectionPool(
        ssl_context=ssl.create_default_context(),
        max_idle=4,
        keepalive_expiry=5.0,
        network_backend=AsyncioBackend(),
    )
    yield connections
    await connections.aclose()
    await eventually(lambda: server.open_connections == 0, "the server saw every connection end")


async def _exchange(pool: ExclusiveConnectionPool, server: Server) -> bytes:
    request = httpcore.Request(
        "POST",
        f"http://127.0.0.1:{server.port}/v1/transit/decrypt/k",
        content=b'{"ciphertext":"vault:v1:x"}',
        headers=[(b"Host", b"127.0.0.1"), (b"Content-Length", b"27")],
        extensions={"timeout": TIMEOUTS},
    )
    response = await pool.handle_async_request(request)
    try:
        return await response.aread()
    finally:
        await response.aclose()


def _count_sends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a request was put on a connection (a request that found its connection
    taken and went back to the queue counts twice)."""
    sends = [0]
    original = httpcore.AsyncHTTPConnection.handle_async_request

    async def counted(self: httpcore.AsyncHTTPConnection, request: httpcore.Request) -> Any:
        sends[0] += 1
        return await original(self, request)

    monkeypatch.setattr(httpcore.AsyncHTTPConnection, "handle_async_request", counted)
    return sends


async def test_a_kept_alive_connection_is_reused(
    pool: ExclusiveConnectionPool, server: Server
) -> None:
    server.release.set()
    assert await _exchange(pool, server) == b"{}"
    assert await _exchange(pool, server) == b"{}"
    assert server.requests == [1, 1]
    assert pool.idle_connections == 1


async def test_requests_sent_at_once_each_go_out_on_a_connection_of_their_own(
    pool: ExclusiveConnectionPool, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpcore's pool handed one idle connection to several requests; all but one found it taken
    and were queued again (encode/httpcore#822): under load, seconds for an exchange."""
    first = asyncio.gather(*(_exchange(pool, server) for _ in range(4)))
    await eventually(lambda: len(server.requests) == 4, "four requests in flight")
    server.release.set()
    assert await first == [b"{}"] * 4
    assert pool.idle_connections == 4

    sends = _count_sends(monkeypatch)
    server.release.clear()
    second = asyncio.gather(*(_exchange(pool, server) for _ in range(4)))
    await eventually(lambda: len(server.requests) == 8, "four more requests in flight")
    server.release.set()
    assert await second == [b"{}"] * 4

    assert sends[0] == 4, "a request was put on a connection another request held"
    assert sorted(server.requests[4:]) == [1, 2, 3, 4]
    assert server.connections == 4


async def test_a_connection_the_server_closed_is_not_handed_out_again(
    pool: ExclusiveConnectionPool, server: Server
) -> None:
    server.release.set()
    server.close_after_answer = True
    assert await _exchange(pool, server) == b"{}"
    await eventually(lambda: server.open_connections == 0, "the server closed the connection")

    assert await _exchange(pool, server) == b"{}"
    assert server.requests == [1, 2]


async def test_an_exchange_cut_off_closes_its_connection(
    pool: ExclusiveConnectionPool, server: Server
) -> None:
    cut = asyncio.create_task(_exchange(pool, server))
    await eventually(lambda: len(server.requests) == 1, "the request reached the server")
    cut.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cut

    assert pool.idle_connections == 0
    server.release.set()  # the server answers the cut request, then finds the connection closed
    await eventually(lambda: server.open_connections == 0, "the cut connection is closed")
    assert await _exchange(pool, server) == b"{}"
    assert server.requests == [1, 2]


async def test_at_most_max_idle_connections_are_kept_and_closing_closes_them(
    server: Server,
) -> None:
    pool = ExclusiveConnectionPool(
        ssl_context=ssl.create_default_context(),
        max_idle=2,
        keepalive_expiry=5.0,
        network_backend=AsyncioBackend(),
    )
    pending = asyncio.gather(*(_exchange(pool, server) for _ in range(3)))
    await eventually(lambda: len(server.requests) == 3, "three requests in flight")
    server.release.set()
    await pending
    assert pool.idle_connections == 2
    await eventually(lambda: server.open_connections == 2, "the third connection is closed")

    await pool.aclose()
    assert pool.idle_connections == 0
    await eventually(lambda: server.open_connections == 0, "the idle connections are closed")


async def test_a_refused_connection_is_httpcores_connect_error(
    pool: ExclusiveConnectionPool,
) -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    request = httpcore.Request(
        "GET", f"http://127.0.0.1:{port}/v1/sys/health", extensions={"timeout": TIMEOUTS}
    )
    with pytest.raises(httpcore.ConnectError):
        await pool.handle_async_request(request)
    assert pool.idle_connections == 0
