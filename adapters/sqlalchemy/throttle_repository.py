"""Attempt throttles stored in ``user_throttles``, one row per user, locked while in use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import user_throttles
from adapters.sqlalchemy.transaction import Transaction
from application.errors import ConcurrentUpdate
from domain.throttle import AttemptThrottle


def _lock_statement(insert: Callable[[sa.Table], Any]) -> sa.Insert:
    """One statement creates the row if needed and locks it: on conflict the no-op update takes the
    row lock that SELECT … FOR UPDATE would take, and RETURNING reads it."""
    fresh = insert(user_throttles).values(
        user_id=sa.bindparam("user_id"), failures=0, locked_until=None, lockouts=0, version=0
    )
    upsert: sa.Insert = fresh.on_conflict_do_update(
        index_elements=["user_id"], set_={"user_id": fresh.excluded.user_id}
    ).returning(*user_throttles.c)
    return upsert


_LOCK = {"postgresql": _lock_statement(postgres_insert), "sqlite": _lock_statement(sqlite_insert)}
_SAVE = (
    sa.update(user_throttles)
    .where(
        user_throttles.c.user_id == sa.bindparam("match_user_id"),
        user_throttles.c.version == sa.bindparam("read_version"),
    )
    .values(
        failures=sa.bindparam("new_failures"),
        locked_until=sa.bindparam("new_locked_until"),
        lockouts=sa.bindparam("new_lockouts"),
        version=user_throttles.c.version + 1,
    )
)


class SqlThrottleRepository:
    """Implements ThrottleRepository. ``lock`` creates the row if needed and takes a row lock (on
    Postgres; SQLite's transactions already hold the database's write lock), so concurrent
    reservations for one user are counted one after another."""

    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def lock(self, user_id: str) -> AttemptThrottle:
        with translated_errors():
            result = await self._transaction.execute(
                _LOCK[self._transaction.dialect_name], {"user_id": user_id}
            )
            row = result.one()
        return AttemptThrottle(
            user_id=row.user_id,
            failures=row.failures,
            locked_until=row.locked_until,
            lockouts=row.lockouts,
            version=row.version,
        )

    async def save(self, throttle: AttemptThrottle) -> None:
        with translated_errors():
            result = await self._transaction.execute(
                _SAVE,
                {
                    "match_user_id": throttle.user_id,
                    "read_version": throttle.version,
                    "new_failures": throttle.failures,
                    "new_locked_until": throttle.locked_until,
                    "new_lockouts": throttle.lockouts,
                },
            )
        if result.rowcount != 1:
            raise ConcurrentUpdate("the throttle was changed meanwhile")
        throttle.version += 1
