"""The Vault transport's network layer: a request leaves in one write when its answer is read,
failures are httpcore's own errors, as its default backend raises them, and a name's addresses
are raced (happy eyeballs)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import pytest

from adapters.vault.asyncio_network import AsyncioBackend, AsyncioStream
from tests.support.waiting import CEILING_SECONDS, eventually

Pair = tuple[AsyncioStream, socket.socket, list[bytes]]

GIVE_UP_SECONDS = 30.0
"""The connect's timeout where an address never answers: without racing, the connect would wait
this long on it and fail; raced, the next address is tried 0.25 s later."""


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    """A stream on one end of a socket pair, the other end raw, and the writes the stream made."""
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    reader, writer = await asyncio.open_connection(sock=ours)
    written: list[bytes] = []
    write = writer.write

    def recording_write(data: bytes | bytearray | memoryview) -> None:
        written.append(bytes(data))
        write(data)

    writer.write = recording_write  # type: ignore[method-assign]
    stream = AsyncioStream(reader, writer)
    try:
        yield stream, theirs, written
    finally:
        await stream.aclose()
        theirs.close()


async def _receive(peer: socket.socket, size: int) -> bytes:
    loop = asyncio.get_running_loop()
    received = b""
    async with asyncio.timeout(CEILING_SECONDS):
        while len(received) < size:
            received += await loop.sock_recv(peer, size - len(received))
    return received


async def test_headers_and_body_leave_in_one_write_when_the_answer_is_read(pair: Pair) -> None:
    stream, peer, written = pair
    await stream.write(b"POST /v1/transit HTTP/1.1\r\n\r\n")
    await stream.write(b'{"ciphertext":"x"}')
    assert written == []
    with pytest.raises(BlockingIOError):
        peer.recv(1024)

    answer = asyncio.create_task(stream.read(1024, timeout=CEILING_SECONDS))
    request = await _receive(peer, 47)
    peer.sendall(b"HTTP/1.1 200 OK\r\n\r\n")

    assert request == b'POST /v1/transit HTTP/1.1\r\n\r\n{"ciphertext":"x"}'
    assert written == [request]
    assert await answer == b"HTTP/1.1 200 OK\r\n\r\n"


async def test_a_silent_server_is_a_read_timeout(pair: Pair) -> None:
    stream, _, _ = pair
    with pytest.raises(httpcore.ReadTimeout):
        await stream.read(1024, timeout=0.05)


async def test_a_server_that_closed_an_idle_connection_shows_it_as_readable(pair: Pair) -> None:
    stream, peer, _ = pair
    assert stream.get_extra_info("is_readable") is False
    peer.close()
    await eventually(lambda: stream.get_extra_info("is_readable"), "the close is seen")
    assert await stream.read(1024, timeout=CEILING_SECONDS) == b""


async def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(httpcore.ConnectError):
            await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=CEILING_SECONDS)


async def test_a_connection_answers_through_the_backend() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, httpcore.AsyncConnectionPool(network_backend=AsyncioBackend()) as pool:
        response = await pool.request("GET", f"http://127.0.0.1:{port}/v1/sys/health")
    assert response.status == 204


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_a_request_on_a_connection_the_loop_saw_closed_is_a_write_error(loop_kind: str) -> None:
    """uvloop raises RuntimeError for a write on a closed transport: still httpcore's WriteError."""

    async def request_after_close() -> None:
        ours, theirs = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=ours)
        stream = AsyncioStream(reader, writer)
        writer.transport.close()
        await stream.write(b"GET /v1/sys/health HTTP/1.1\r\n\r\n")
        try:
            with pytest.raises(httpcore.WriteError):
                await stream.read(1024, timeout=CEILING_SECONDS)
        finally:
            await stream.aclose()
            theirs.close()

    if loop_kind == "uvloop":
        import uvloop

        uvloop.run(request_after_close())
    else:
        asyncio.run(request_after_close())


@contextmanager
def _silent_port() -> Iterator[int]:
    """A loopback port whose SYNs are dropped, like an address that does not route: a listener
    whose backlog is full and that never accepts."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def _resolving(monkeypatch: pytest.MonkeyPatch, name: str, ports: list[int]) -> None:
    """``name`` resolves to 127.0.0.1 on each of ``ports``, in that order."""
    loop = asyncio.get_running_loop()

    async def getaddrinfo(host: str, port: int, **_: Any) -> list[Any]:
        assert host == name
        return [
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", each))
            for each in ports
        ]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)


async def test_an_address_that_never_answers_does_not_hold_the_next_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    live = int(server.sockets[0].getsockname()[1])
    with _silent_port() as silent:
        _resolving(monkeypatch, "vault.test", [silent, live])
        async with server:
            stream = await AsyncioBackend().connect_tcp("vault.test", 8200, timeout=GIVE_UP_SECONDS)
            try:
                assert stream.get_extra_info("server_addr") == ("127.0.0.1", live)
            finally:
                await stream.aclose()


async def test_a_name_whose_every_address_refuses_is_a_connect_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    probes = [socket.socket(), socket.socket()]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        _resolving(monkeypatch, "vault.test", [int(p.getsockname()[1]) for p in probes])
        with pytest.raises(httpcore.ConnectError):
            await AsyncioBackend().connect_tcp("vault.test", 8200, timeout=CEILING_SECONDS)
    finally:
        for probe in probes:
            probe.close()
