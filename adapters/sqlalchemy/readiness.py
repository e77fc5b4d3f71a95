"""Whether the database answers."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.errors import translated_errors


class DatabaseProbe:
    """Implements ReadinessProbe with ``SELECT 1`` on a pooled connection."""

    name = "database"

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def check(self) -> None:
        with translated_errors():
            async with self._engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
