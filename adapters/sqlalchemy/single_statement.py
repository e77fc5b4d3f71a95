"""One SQL statement on bare asyncpg, in its own implicit transaction: one round trip.

The connection comes from the engine's pool (the same connections, limits and timeouts as every
unit of work); nothing begins a transaction on it, so the statement commits on its own, and asyncpg
prepares each statement text once per connection and keeps it (its statement cache). Errors are
translated as ``translated_errors`` does for SQLAlchemy's, without the driver's message.

A pooled connection the server closed meanwhile is replaced once, like ``Transaction``'s first
statement: the statement could not have been sent on it.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.errors import DATABASE, translated_errors
from application.errors import ConcurrentUpdate, DependencyUnavailable, StoreRefusedValue

logger = logging.getLogger(__name__)

_CLOSED = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
)
"""A connection that cannot carry the statement: closed, or left in a broken protocol state by a
server restart (InternalClientError "cannot switch to state …", seen in the soak): replaced once,
then 503."""


async def fetch_row(engine: AsyncEngine, statement: str, *arguments: Any) -> asyncpg.Record:
    """The one row ``statement`` returns."""
    rows = await fetch(engine, statement, *arguments)
    if len(rows) != 1:
        raise RuntimeError(f"the statement returned {len(rows)} rows, not one")
    return rows[0]


async def fetch(engine: AsyncEngine, statement: str, *arguments: Any) -> list[asyncpg.Record]:
    """The rows ``statement`` returns.

    Raises:
        asyncpg.LockNotAvailableError: as it came (a NOWAIT lock refused: the caller's to say).
        ConcurrentUpdate, StoreRefusedValue, DependencyUnavailable: as ``translated_errors``.
    """
    for attempt in (1, 2):
        with translated_errors():  # checking a connection out of the pool
            connection = await engine.connect()
        try:
            driver = await _driver(connection)
            try:
                rows: list[asyncpg.Record] = await driver.fetch(statement, *arguments)
            except _CLOSED as error:
                await connection.invalidate()
                if attempt == 2:
                    raise DependencyUnavailable(DATABASE, cause=type(error).__name__) from None
                logger.warning("a pooled database connection was closed; using a new one")
                continue
            except asyncpg.LockNotAvailableError:
                raise
            except asyncpg.IntegrityConstraintViolationError as error:
                raise ConcurrentUpdate(
                    f"a constraint refused the change ({_name(error)})"
                ) from None
            except asyncpg.DataError as error:
                raise StoreRefusedValue(f"the database refused a value ({_name(error)})") from None
            except (TimeoutError, OSError) as error:
                await connection.invalidate()  # silent: the next statement would wait as long
                raise DependencyUnavailable(DATABASE, cause=_name(error)) from None
            except asyncpg.PostgresError as error:
                raise DependencyUnavailable(DATABASE, cause=_name(error)) from None
            return rows
        finally:
            with translated_errors():
                await connection.close()
    raise AssertionError("unreachable")


async def _driver(connection: AsyncConnection) -> asyncpg.Connection:
    with translated_errors():
        raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    return driver


def _name(error: BaseException) -> str:
    sqlstate = getattr(error, "sqlstate", None)
    return f"{type(error).__name__}, SQLSTATE {sqlstate}" if sqlstate else type(error).__name__
