"""The served app's lifespan wrapper: what the start-up built is frozen out of the collector."""

from __future__ import annotations

import gc
from collections.abc import MutableMapping
from typing import Any

from entrypoints.asgi import Message, start_up_objects_frozen


async def test_the_objects_of_a_started_worker_are_frozen_once_the_start_up_completes() -> None:
    frozen_when_sent: list[int] = []

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "lifespan.startup.complete"})

    async def send(message: Message) -> None:
        frozen_when_sent.append(gc.get_freeze_count())

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    gc.unfreeze()
    try:
        await start_up_objects_frozen(app)({"type": "lifespan"}, receive, send)
        frozen_after = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert frozen_when_sent == [0], "frozen before the server heard that the start-up completed"
    assert frozen_after > 1000


async def test_requests_pass_through_and_freeze_nothing() -> None:
    sent: list[Message] = []

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    gc.unfreeze()
    await start_up_objects_frozen(app)({"type": "http"}, receive, send)
    assert gc.get_freeze_count() == 0
    assert sent == [{"type": "http.response.start", "status": 204, "headers": []}]
