"""Waiting on a condition, the one way the tests do it: a generous ceiling, a clear message, and
a quick failure when the process that should make the condition true has exited.

No test asserts how long something took: a loaded two-core machine shared with other work can be
ten times slower than a quiet one, so the ceiling only bounds a wait that would otherwise hang.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

CEILING_SECONDS = 180.0
"""For starts (a served process, a Vault dev server, a container, workers) and for what a running
process does on its own (an export, a log line, a drained connection)."""


class Exited(Protocol):
    def poll(self) -> int | None: ...


class WaitFailed(RuntimeError):
    """The condition did not hold within the ceiling, or the process exited first (a
    RuntimeError, as the served-process helpers raised before there was one wait)."""


def log_tail(log: Path | None, characters: int = 4000) -> str:
    if log is None or not log.exists():
        return ""
    return f"\n--- {log} (last {characters} characters) ---\n{log.read_text()[-characters:]}"


def wait_until(
    condition: Callable[[], bool],
    what: str,
    *,
    process: Exited | None = None,
    log: Path | None = None,
    ceiling: float = CEILING_SECONDS,
    interval: float = 0.1,
) -> None:
    """Returns once ``condition()`` is true.

    Raises:
        WaitFailed: ``process`` exited first, or ``ceiling`` seconds passed; the message names
            ``what`` and ends with the tail of ``log``.
    """
    deadline = time.monotonic() + ceiling
    while not condition():
        if process is not None and process.poll() is not None:
            raise WaitFailed(f"exited (status {process.poll()}) before {what}{log_tail(log)}")
        if time.monotonic() > deadline:
            raise WaitFailed(f"not within {ceiling:.0f} s: {what}{log_tail(log)}")
        time.sleep(interval)


async def eventually(
    condition: Callable[[], bool],
    what: str,
    *,
    ceiling: float = CEILING_SECONDS,
    interval: float = 0.05,
) -> None:
    """``wait_until`` for a test on the event loop: the loop keeps running while it waits."""
    deadline = time.monotonic() + ceiling
    while not condition():
        if time.monotonic() > deadline:
            raise WaitFailed(f"not within {ceiling:.0f} s: {what}")
        await asyncio.sleep(interval)


async def eventually_found(
    probe: Callable[[], Awaitable[bool]],
    what: str,
    *,
    ceiling: float = CEILING_SECONDS,
    interval: float = 0.05,
) -> None:
    """``eventually`` for a condition that is itself awaited (a query)."""
    deadline = time.monotonic() + ceiling
    while not await probe():
        if time.monotonic() > deadline:
            raise WaitFailed(f"not within {ceiling:.0f} s: {what}")
        await asyncio.sleep(interval)
