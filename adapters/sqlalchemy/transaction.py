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
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._first_statement = True

    @property
    def dialect_name(self) -> str:
        return self._engine.dialect.name

    async def open(self) -> None:
        with translated_errors():
            self._connection = await self._begin()

    async def execute(self, statement: Executable, parameters: Parameters | None = None) -> Rows:
        """Runs ``statement``; database errors come through as SQLAlchemy raised them."""
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
            await self._open_connection().commit()

    async def close(self) -> None:
        """Rolls back what was not committed and gives the connection back to the pool."""
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        with translated_errors():
            try:
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
