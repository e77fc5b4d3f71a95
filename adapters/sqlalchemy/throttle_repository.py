"""Attempt throttles stored in ``user_throttles``, one row per user, locked while in use."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import user_throttles
from application.errors import ConcurrentUpdate
from domain.throttle import AttemptThrottle


class SqlThrottleRepository:
    """Implements ThrottleRepository. ``lock`` creates the row if needed and takes a row lock (on
    Postgres; SQLite's transactions already hold the database's write lock), so concurrent
    reservations for one user are counted one after another."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def lock(self, user_id: str) -> AttemptThrottle:
        dialect = self._connection.dialect.name
        insert = postgres_insert if dialect == "postgresql" else sqlite_insert
        fresh = insert(user_throttles).values(
            user_id=user_id, failures=0, locked_until=None, lockouts=0, version=0
        )
        # One statement creates the row if needed and locks it: on conflict the no-op update takes
        # the row lock that SELECT … FOR UPDATE would take, and RETURNING reads it.
        upsert = fresh.on_conflict_do_update(
            index_elements=["user_id"], set_={"user_id": fresh.excluded.user_id}
        ).returning(*user_throttles.c)
        with translated_errors():
            row = (await self._connection.execute(upsert)).one()
        return AttemptThrottle(
            user_id=row.user_id,
            failures=row.failures,
            locked_until=row.locked_until,
            lockouts=row.lockouts,
            version=row.version,
        )

    async def save(self, throttle: AttemptThrottle) -> None:
        with translated_errors():
            result = await self._connection.execute(
                sa.update(user_throttles)
                .where(
                    user_throttles.c.user_id == throttle.user_id,
                    user_throttles.c.version == throttle.version,
                )
                .values(
                    failures=throttle.failures,
                    locked_until=throttle.locked_until,
                    lockouts=throttle.lockouts,
                    version=throttle.version + 1,
                )
            )
        if result.rowcount != 1:
            raise ConcurrentUpdate("the throttle was changed meanwhile")
        throttle.version += 1
