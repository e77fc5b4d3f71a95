"""httpcore's network layer on plain asyncio streams, for the Vault transport.

httpcore's default backend goes through anyio, which adds a cancel scope and a checkpoint (an extra
turn of the event loop) to every read and write, and httpcore writes a request's headers and its
body in two writes. Here a write is kept until the next read, so that a request leaves in one
``write`` (httpcore always reads the answer after sending the whole request). Errors are httpcore's
own exception classes, so httpx maps them as before; a write to a connection that was lost shows as
the read's error, or as ``WriteError`` when the loop already knows it closed.

A name's addresses are raced as anyio races them (RFC 8305 happy eyeballs, through
aiohappyeyeballs: uvloop has none): families interleaved, the next address tried 250 ms after the
previous one, while it still connects; the first connection wins and the others are closed.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import aiohappyeyeballs
import httpcore
from httpcore import SOCKET_OPTION

CONNECTION_ATTEMPT_DELAY = 0.25
"""Seconds before the next address is tried alongside (RFC 8305's recommended delay, anyio's)."""


@contextmanager
def _mapped(timeout_error: type[Exception], other_error: type[Exception]) -> Iterator[None]:
    try:
        yield
    except TimeoutError as error:
        raise timeout_error(str(error)) from error
    except (OSError, ssl.SSLError, ConnectionError, RuntimeError) as error:
        # uvloop raises RuntimeError for a write on a transport it has closed
        raise other_error(str(error) or type(error).__name__) from error


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._unsent: list[bytes] = []

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._send_unsent()
        with _mapped(httpcore.ReadTimeout, httpcore.ReadError):
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self._unsent.append(buffer)

    def _send_unsent(self) -> None:
        if not self._unsent:
            return
        data = self._unsent[0] if len(self._unsent) == 1 else b"".join(self._unsent)
        self._unsent.clear()
        with _mapped(httpcore.WriteTimeout, httpcore.WriteError):
            if self._writer.is_closing():
                raise ConnectionResetError("the connection was closed before the request")
            self._writer.write(data)

    async def aclose(self) -> None:
        self._unsent.clear()
        self._writer.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self._send_unsent()
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            try:
                async with asyncio.timeout(timeout):
                    await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
            except BaseException:
                await self.aclose()
                raise
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":
            # asyncio reads the socket as data comes, so an idle connection that the server
            # closed shows as the reader's end of stream, not as a readable socket.
            return (
                self._reader.at_eof()
                or self._reader.exception() is not None
                or self._writer.is_closing()
            )
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            async with asyncio.timeout(timeout):
                connected = await _raced_connection(host, port, local_address)
                try:
                    reader, writer = await asyncio.open_connection(sock=connected)
                except BaseException:
                    connected.close()
                    raise
        _apply(writer, socket_options)
        return AsyncioStream(reader, writer)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        _apply(writer, socket_options)
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _raced_connection(host: str, port: int, local_address: str | None) -> socket.socket:
    loop = asyncio.get_running_loop()
    addresses = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    local = None
    if local_address:
        local = await loop.getaddrinfo(local_address, 0, type=socket.SOCK_STREAM)
    return await aiohappyeyeballs.start_connection(
        addresses, local_addr_infos=local, happy_eyeballs_delay=CONNECTION_ATTEMPT_DELAY
    )


def _apply(writer: asyncio.StreamWriter, options: Iterable[SOCKET_OPTION] | None) -> None:
    raw: socket.socket = writer.get_extra_info("socket")
    for option in options or ():
        raw.setsockopt(*option)
