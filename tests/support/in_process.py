"""The app served in the test's own event loop, so that concurrent requests really run at once.

Litestar's AsyncTestClient runs the app on another thread's loop and blocks the caller while a
request runs: requests sent with ``asyncio.gather`` through it run one after another, which would
make every concurrency test pass for the wrong reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
from litestar import Litestar

Client = httpx.AsyncClient


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    """Drives the ASGI lifespan protocol: startup before the block, shutdown after it."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: dict[str, Any]) -> None:
        await outbox.put(message)

    asgi_app = cast(Any, app)
    task = asyncio.create_task(
        asgi_app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    )
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        task.cancel()
        raise RuntimeError(f"the app did not start: {started.get('message', started)}")
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


@asynccontextmanager
async def serve_in_process(
    app: Litestar, wrapped: Callable[..., Awaitable[None]] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to ``app`` in this event loop, with the app's lifespan around it;
    through ``wrapped`` (``app`` inside a served process's ASGI wrappers), if given."""
    async with _lifespan(app):
        asgi = wrapped or app
        transport = httpx.ASGITransport(app=cast(Any, asgi), client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
