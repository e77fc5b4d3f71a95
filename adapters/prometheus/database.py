"""Times every SQL statement by its family (``select enrollments``), counts failures, and keeps
the pool's connections in use and waiting, through SQLAlchemy's engine and pool events."""

from __future__ import annotations

import time
from typing import Any, Final

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Dialect, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool

from adapters.prometheus.dependencies import (
    DB_POOL_IN_USE,
    DB_POOL_WAITING,
    DEPENDENCY_DURATION,
    DEPENDENCY_ERRORS,
)
from adapters.sqlalchemy.statement_family import statement_family

_STARTED: Final = "mfa_statement_started"


def measure_engine(engine: AsyncEngine, dependency: str) -> None:
    """Listens to ``engine``'s statements and pool; the labels name ``dependency``."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(conn: Connection, _c: Any, _s: str, _p: Any, _x: Any, _m: bool) -> None:
        conn.info.setdefault(_STARTED, []).append(time.perf_counter())

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _after(conn: Connection, _c: Any, statement: str, _p: Any, _x: Any, _m: bool) -> None:
        _observe(conn, dependency, statement)

    @event.listens_for(sync_engine, "do_connect")
    def _connecting(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
        # Every new connection, a pool's first or one that replaces a closed or recycled one,
        # whichever path checked it out (``engine.connect()`` or the checks' raw connection).
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as error:
            DEPENDENCY_ERRORS.labels(dependency, "connect", type(error).__name__).inc()
            raise

    @event.listens_for(sync_engine, "handle_error")
    def _failed(context: ExceptionContext) -> None:
        if context.connection is None:
            return  # a failed connect, counted above (or a failed ping, then a new connect)
        # No statement on a live connection: its BEGIN, COMMIT or ROLLBACK failed.
        operation = statement_family(context.statement) if context.statement else "transaction"
        error = type(context.original_exception).__name__
        DEPENDENCY_ERRORS.labels(dependency, operation, error).inc()
        if context.statement:
            _observe(context.connection, dependency, context.statement)

    _measure_pool(sync_engine.pool, dependency)


def _observe(conn: Connection, dependency: str, statement: str) -> None:
    started: list[float] = conn.info.get(_STARTED, [])
    if started:
        elapsed = time.perf_counter() - started.pop()
        DEPENDENCY_DURATION.labels(dependency, statement_family(statement)).observe(elapsed)


def _measure_pool(pool: Pool, dependency: str) -> None:
    @event.listens_for(pool, "checkout")
    def _checked_out(*_: Any) -> None:
        DB_POOL_IN_USE.inc()

    @event.listens_for(pool, "checkin")
    def _checked_in(*_: Any) -> None:
        DB_POOL_IN_USE.dec()

    # SQLAlchemy has no event before a checkout waits; every checkout passes through the pool's
    # ``_do_get`` (sqlalchemy/pool/base.py, _ConnectionRecord.checkout), so it is wrapped here.
    # A connect it makes fails through it too: counted by the "do_connect" listener instead.
    acquire = pool._do_get

    def waiting_do_get() -> Any:
        DB_POOL_WAITING.inc()
        started = time.perf_counter()
        try:
            return acquire()
        except exc.TimeoutError as error:
            DEPENDENCY_ERRORS.labels(dependency, "pool checkout", type(error).__name__).inc()
            raise
        finally:
            DB_POOL_WAITING.dec()
            DEPENDENCY_DURATION.labels(dependency, "pool checkout").observe(
                time.perf_counter() - started
            )

    pool._do_get = waiting_do_get  # type: ignore[method-assign]
