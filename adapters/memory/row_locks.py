"""Row locks for the memory store, as a database holds them until the transaction ends."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable


class RowLocks:
    """Which open unit of work holds each row. Another unit of work that asks for a held row waits
    until the holder commits or leaves (Postgres' ``FOR UPDATE`` and the lock an ``INSERT`` takes),
    or, if it will not wait, is told at once (``NOWAIT``)."""

    def __init__(self) -> None:
        self._holders: dict[Hashable, object] = {}
        self._released: dict[Hashable, asyncio.Event] = {}

    async def take(self, row: Hashable, holder: object, *, wait: bool = True) -> bool:
        """Takes ``row`` for ``holder``; False if another holds it and ``wait`` is False."""
        while self._holders.setdefault(row, holder) is not holder:
            if not wait:
                return False
            await self._released.setdefault(row, asyncio.Event()).wait()
        return True

    def release_all(self, holder: object) -> None:
        for row in [row for row, held_by in self._holders.items() if held_by is holder]:
            del self._holders[row]
            released = self._released.pop(row, None)
            if released is not None:
                released.set()
