"""One database transaction on one pooled connection, as the repositories use it."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.base import Executable

from adapters.sqlalchemy.errors import translated_errors

Parameters = Mapping[str, Any] | Sequence[Mapping[str, Any]]
Rows = CursorResult[*tuple[Any, ...]]

logger = logging.getLogger(__name__)


class Transaction:
    """Begins on :meth:`open`, ends on :meth:`commit` or rolls back on :meth:`close`.

    A pooled connection can have been closed by the server while it sat in the pool (a restart,
    ``pg_terminate_backend``, a proxy resetting it). Instead of pinging every connection on checkout
    (``pool_pre_ping`` costs three round trips on asyncpg: BEGIN, an empty query, ROLLBACK), the
    first statement runs once more on a new connection when it finds its connection gone: nothing
    had happened in the transaction yet, so nothing is done twice. Later statements are not retried.

    A connection that stopped answering (a statement past its timeout, a broken connection) is
    discarded on :meth:`close` instead of being rolled back: a rollback would wait for the same
    silence once more before the request could answer 503, and the server rolls back an
    open transaction whose connection is gone.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._first_statement = True
        self._silent = False

    @property
    def dialect_name(self) -> str:
        return self._engine.dialect.name

    async def open(self) -> None:
        with translated_errors():
            self._connection = await self._begin()

    async def execute(self, statement: Executable, parameters: Parameters | None = None) -> Rows:
        """Runs ``statement``; database errors come through as SQLAlchemy raised them."""
        try:
            return await self._execute(statement, parameters)
        except BaseException as error:
            self._silent = self._silent or stopped_answering(error)
            raise

    async def _execute(self, statement: Executable, parameters: Parameters | None) -> Rows:
        connection = self._open_connection()
        if not self._first_statement:
            return await connection.execute(statement, parameters)
        self._first_statement = False
        try:
            return await connection.execute(statement, parameters)
        except exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
        logger.warning("a pooled database connection was closed by the server; using a new one")
        await connection.close()
        self._connection = None
        self._connection = await self._begin()
        return await self._connection.execute(statement, parameters)

    async def commit(self) -> None:
        with translated_errors():
            try:
                await self._open_connection().commit()
            except BaseException as error:
                self._silent = self._silent or stopped_answering(error)
                raise

    async def close(self) -> None:
        """Rolls back what was not committed and gives the connection back to the pool."""
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        with translated_errors():
            try:
                if self._silent:
                    await connection.invalidate()
                else:
                    await connection.rollback()
            finally:
                await connection.close()

    async def _begin(self) -> AsyncConnection:
        connection = await self._engine.connect()
        try:
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        return connection

    def _open_connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the transaction is not open")
        return self._connection


def stopped_answering(error: BaseException) -> bool:
    """Whether ``error`` says the connection may not answer again: the client's own timeout
    (asyncpg raises it as is) or a broken connection. A refusal the database sent (a constraint,
    a cancelled statement, a lock timeout) leaves the connection usable."""
    if isinstance(error, exc.DBAPIError):
        return error.connection_invalidated
    return isinstance(error, (TimeoutError, OSError))
