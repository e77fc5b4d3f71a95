"""Whether the database answers."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.transaction import Transaction


class DatabaseProbe:
    """Implements ReadinessProbe with ``SELECT 1`` on a pooled connection."""

    name = "database"

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def check(self) -> None:
        transaction = Transaction(self._engine)
        await transaction.open()
        try:
            with translated_errors():
                await transaction.execute(sa.text("SELECT 1"))
        finally:
            await transaction.close()
