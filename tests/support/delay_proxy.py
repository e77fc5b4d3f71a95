"""A loopback TCP proxy whose latency and availability tests switch at run time.

    with DelayProxy("127.0.0.1", vault_port) as proxy:
        client = make_client(proxy.addr)
        proxy.delay = 5.0       # every answer from upstream now arrives 5 s late
        proxy.refuse = True     # new connections are closed at once
        proxy.drop_connections()  # open connections are reset
        proxy.delay, proxy.refuse = 0.0, False

It runs its own asyncio loop in a daemon thread, so sync and async tests use it alike. Settings are
read for every chunk, so they also apply to keep-alive connections opened before the switch.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, Final

_CHUNK: Final = 64 * 1024


class DelayProxy:
    """Forwards 127.0.0.1:``port`` to ``target_host``:``target_port``.

    ``delay`` (seconds) is added before each chunk travels from upstream to the client; ``refuse``
    makes the proxy close new connections right after accepting them (the client sees a reset or an
    empty answer).
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.delay = 0.0
        self.refuse = False
        self._target = (target_host, target_port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The loopback port the proxy listens on."""
        if self._port is None:
            raise RuntimeError("the proxy is not running")
        return self._port

    @property
    def addr(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DelayProxy:
        """Starts listening on a free loopback port; returns when connections are accepted."""
        if self._thread is not None:
            raise RuntimeError("the proxy is already running")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="delay-proxy", daemon=True)
        self._thread.start()
        self._in_loop(self._listen())
        return self

    def drop_connections(self) -> None:
        """Resets every open connection, both sides."""
        self._in_loop(self._abort_all())

    def stop(self) -> None:
        """Closes the listener and every connection, and ends the thread. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._in_loop(self._shut_down())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> DelayProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _in_loop(self, work: Coroutine[Any, Any, None]) -> None:
        """Runs ``work`` on the proxy's loop (any thread may call this) and waits for it."""
        if self._loop is None:
            work.close()
            raise RuntimeError("the proxy is not running")
        asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=5)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, host="127.0.0.1", port=0)
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def _handle(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        if self.refuse:
            client.transport.abort()
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self._target)
        except OSError:
            client.transport.abort()
            return
        self._writers.update((client, upstream))
        try:
            await asyncio.gather(
                self._pipe(client_reader, upstream, delayed=False),
                self._pipe(upstream_reader, client, delayed=True),
            )
        except asyncio.CancelledError:
            # Only stop() cancels. Ending normally avoids Python 3.11's "Exception in callback"
            # noise from start_server's done-callback calling exception() on a cancelled task.
            pass
        finally:
            for writer in (client, upstream):
                self._writers.discard(writer)
                writer.transport.abort()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, delayed: bool
    ) -> None:
        with contextlib.suppress(OSError):
            while chunk := await reader.read(_CHUNK):
                if delayed and self.delay > 0:
                    await asyncio.sleep(self.delay)
                if writer.is_closing():
                    return
                writer.write(chunk)
                await writer.drain()
            if writer.can_write_eof() and not writer.is_closing():
                writer.write_eof()

    async def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()

    async def _shut_down(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._abort_all()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
