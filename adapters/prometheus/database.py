"""Times every SQL statement by its family (``select enrollments``), counts failures, and keeps
the pool's connections in use and waiting, through SQLAlchemy's engine and pool events."""

from __future__ import annotations

import time
from typing import Any, Final

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, ExceptionContext
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

    @event.listens_for(sync_engine, "handle_error")
    def _failed(context: ExceptionContext) -> None:
        if context.connection is None:
            return  # a failed connect: the pool's wrapper below counts it, whatever the path
        operation = statement_family(context.statement) if context.statement else "connect"
        error = type(context.original_exception).__name__
        DEPENDENCY_ERRORS.labels(dependency, operation, error).inc()
        if context.connection is not None and context.statement:
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

    # SQLAlchemy has no event before a checkout waits, nor one when a new connection fails; every
    # checkout, and every connect, passes through the pool's ``_do_get`` (sqlalchemy/pool/base.py,
    # _ConnectionRecord.checkout), whether through ``engine.connect()`` or the raw connection the
    # one-statement checks take, so it is wrapped here.
    acquire = pool._do_get

    def waiting_do_get() -> Any:
        DB_POOL_WAITING.inc()
        started = time.perf_counter()
        try:
            return acquire()
        except Exception as error:
            operation = "pool checkout" if isinstance(error, exc.TimeoutError) else "connect"
            DEPENDENCY_ERRORS.labels(dependency, operation, type(error).__name__).inc()
            raise
        finally:
            DB_POOL_WAITING.dec()
            DEPENDENCY_DURATION.labels(dependency, "pool checkout").observe(
                time.perf_counter() - started
            )

    pool._do_get = waiting_do_get  # type: ignore[method-assign]
