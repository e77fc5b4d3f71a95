"""One SQL statement on bare asyncpg, in its own implicit transaction: one round trip; or a few
in one transaction (``transaction``).

The connection comes from the engine's pool (the same connections, limits and timeouts as every
unit of work), taken and given back in one greenlet switch each: ``engine.connect()`` would take
three and build a ``Connection`` these statements never use (a sixth of a statement's CPU:
``bench/checkout_cost.py``). For ``fetch`` nothing begins a transaction on it, so the statement
commits on its own. asyncpg prepares each statement text once per connection and keeps it (its
statement cache). Errors are translated as ``translated_errors`` does for SQLAlchemy's, without
the driver's message.

A pooled connection the server closed meanwhile is replaced once, like ``Transaction``'s first
statement: the statement (or the BEGIN) could not have been sent on it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from asyncpg.transaction import Transaction
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from adapters.sqlalchemy.errors import DATABASE, described, driver_error, translated_errors
from application.errors import DependencyUnavailable, StoreRefusedValue

logger = logging.getLogger(__name__)

T = TypeVar("T")

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

    async def run(driver: asyncpg.Connection) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await driver.fetch(statement, *arguments)
        return rows

    return await _on_pooled_connection(engine, run, in_transaction=False)


async def transaction(engine: AsyncEngine, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """What ``work`` returns, run on a pooled connection between BEGIN and COMMIT: as many round
    trips as its statements, and those two. Whatever ``work`` raises rolls back, and comes through
    as ``fetch``'s errors do. The BEGIN runs once more on a new connection when its connection
    was found closed; ``work`` runs once."""
    return await _on_pooled_connection(engine, work, in_transaction=True)


async def _on_pooled_connection(
    engine: AsyncEngine, work: Callable[[asyncpg.Connection], Awaitable[T]], *, in_transaction: bool
) -> T:
    for attempt in (1, 2):
        pooled = await _checked_out(engine)
        try:
            driver: asyncpg.Connection = pooled.driver_connection
            began: Transaction | None = None
            first_statement = True  # nothing was done yet: a closed connection is replaced
            try:
                if in_transaction:
                    # The enrollment start's count is right only if its statement, run after
                    # the lock, sees what the lock's holder committed: READ COMMITTED, whatever
                    # the server's or role's default.
                    began = driver.transaction(isolation="read_committed")
                    await began.start()
                    first_statement = False
                result = await work(driver)
                if began is not None:
                    await began.commit()
            except _CLOSED as error:
                if isinstance(error, ValueError):  # asyncpg could not encode an argument
                    await _roll_back(pooled, driver, began)
                    raise StoreRefusedValue(
                        f"the database driver refused a value ({described(error)})"
                    ) from None
                if driver.is_closed():
                    _replace_pooled_connections(engine, pooled, error)
                await _invalidate(pooled)
                if attempt == 2 or not first_statement:
                    raise DependencyUnavailable(DATABASE, cause=type(error).__name__) from None
                logger.warning("a pooled database connection was closed; using a new one")
                continue
            except (TimeoutError, OSError) as error:
                await _invalidate(pooled)  # silent: the next statement would wait as long
                raise DependencyUnavailable(DATABASE, cause=described(error)) from None
            except BaseException as error:
                await _roll_back(pooled, driver, began)
                translated = driver_error(error)
                if translated is error:
                    raise
                raise translated from None
            return result
        finally:
            with translated_errors():
                await greenlet_spawn(pooled.close)  # back to the pool, or closed if invalidated
    raise AssertionError("unreachable")


async def _checked_out(engine: AsyncEngine) -> PoolProxiedConnection:
    """A connection from the engine's pool, errors translated as ``engine.connect()``'s are: a
    full pool's wait, a refused or failed connect. The driver's own errors at connect are not
    SQLAlchemy's here (``Connection`` wraps them), so they are translated apart."""
    with translated_errors():
        try:
            return await greenlet_spawn(engine.sync_engine.raw_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DependencyUnavailable(DATABASE, cause=described(error)) from None


async def _invalidate(pooled: PoolProxiedConnection) -> None:
    """Closes the connection, unless ``_replace_pooled_connections`` did; the pool makes a new one
    in its place when needed."""
    if pooled.is_valid:
        await greenlet_spawn(pooled.invalidate)


async def _roll_back(
    pooled: PoolProxiedConnection, driver: asyncpg.Connection, began: Transaction | None
) -> None:
    """Ends the transaction an error left open. A connection whose transaction did not end as
    asyncpg expects (BEGIN or COMMIT failed, or the ROLLBACK) is not pooled again: the pool's own
    reset knows nothing of a transaction begun on the driver."""
    if began is None:
        return
    if driver.is_in_transaction():
        with contextlib.suppress(Exception):  # the error being handled is the one to report
            await began.rollback()
            return
    await _invalidate(pooled)


def _replace_pooled_connections(
    engine: AsyncEngine, closed: PoolProxiedConnection, error: BaseException
) -> None:
    """The server closed ``closed``: the pool's other connections made before it were most likely
    closed with it (a restart, a failover), so each is replaced at its next checkout instead of
    failing its request. SQLAlchemy does the same with a disconnect it sees itself
    (``Connection._handle_dbapi_exception``: ``engine.pool._invalidate``), which these statements
    bypass."""
    engine.sync_engine.pool._invalidate(closed, error)
