"""The outbox loop each worker runs in the background of its app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from application.errors import DependencyUnavailable
from entrypoints.composition.wiring import OutboxJobs

logger = logging.getLogger("mfa.composition")

OUTBOX_STOP_SECONDS = 10.0
"""How long a stopping worker waits for the outbox batch in hand; a batch cut short is sent again
by another worker once its lease ends (delivery is at least once)."""


async def _deliver_forever(jobs: OutboxJobs, interval: float, stopping: asyncio.Event) -> None:
    """Delivers the outbox until ``stopping`` is set, then returns after the batch in hand; the
    outbox's leases keep workers from sending one notification twice at once. Measures the
    backlog after each round."""
    while not stopping.is_set():
        try:
            delivered = await jobs.deliver()
            await jobs.measure()
        except DependencyUnavailable:
            logger.warning("notification delivery paused: the database is unavailable")
            delivered = 0
        except Exception:
            logger.exception("notification delivery failed")
            delivered = 0
        if delivered == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), interval)


@contextlib.asynccontextmanager
async def outbox_loop(jobs: OutboxJobs, interval: float) -> AsyncIterator[None]:
    """Runs the loop while the context is open; on leaving, lets the batch in hand finish (up to
    ``OUTBOX_STOP_SECONDS``) before it cancels it."""
    stopping = asyncio.Event()
    task = asyncio.create_task(_deliver_forever(jobs, interval, stopping))
    try:
        yield
    finally:
        stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), OUTBOX_STOP_SECONDS)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
