"""Attempt throttles stored in ``user_throttles``, one row per user, locked while in use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import user_throttles
from adapters.sqlalchemy.transaction import Transaction
from application.errors import ConcurrentUpdate, ThrottleBusy
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
_TRY_LOCK = (
    sa.select(*user_throttles.c)
    .where(user_throttles.c.user_id == sa.bindparam("user_id"))
    .with_for_update(nowait=True)
)
"""Postgres refuses at once (SQLSTATE 55P03) when the row is locked; SQLite ignores FOR UPDATE:
its transactions already hold the database's write lock."""
_LOCK_NOT_AVAILABLE = "55P03"
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

    async def lock(self, user_id: str, *, wait: bool = True) -> AttemptThrottle:
        row = None if wait else await self._try_lock(user_id)
        if row is None:
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

    async def _try_lock(self, user_id: str) -> sa.Row[Any] | None:
        """The locked row; None when the user has none yet (the first check creates it)."""
        with translated_errors():
            try:
                result = await self._transaction.execute(_TRY_LOCK, {"user_id": user_id})
            except exc.DBAPIError as error:
                if getattr(error.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
                    raise ThrottleBusy("another check of this user is in flight") from None
                raise
            return result.one_or_none()

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
