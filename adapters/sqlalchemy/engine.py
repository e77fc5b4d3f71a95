"""Async engines for SQLite (the embedded default) and Postgres (production)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


@dataclass(frozen=True, slots=True)
class DatabaseLimits:
    """Bounds that keep a slow, stalled or saturated database from holding requests for long.

    Each wait has its bound: a pooled connection (``pool_timeout_seconds``), a new connection
    (``connect_timeout_seconds``), a statement (``statement_seconds``). A refused or closed
    connection fails at once; a request whose database does not answer fails within
    ``longest_wait_seconds``."""

    pool_size: int = 10
    max_overflow: int = 5
    pool_timeout_seconds: float = 2.0
    connect_timeout_seconds: float = 2.0
    statement_timeout_ms: int = 2000
    lock_timeout_ms: int = 1000
    silent_connection_margin_seconds: float = 0.5

    @property
    def statement_seconds(self) -> float:
        """One statement's bound, its answer included. The server's ``statement_timeout`` ends a
        slow statement first: it is rolled back and the connection stays usable. The client's own
        timeout, a margin later, ends a silent connection (a stall, a server gone without closing
        it); were it the same, the client would give up on statements the server still completes
        (a code used up, answered 503) and throw away every connection of a slow database."""
        return self.statement_timeout_ms / 1000 + self.silent_connection_margin_seconds

    @property
    def longest_wait_seconds(self) -> float:
        """The most one database step waits before it fails: for a connection (from the pool, or
        a new one), then for its statement. A connection found closed fails at once and is
        replaced by a new one (``Transaction``), which is the connection waited for."""
        connection = max(self.pool_timeout_seconds, self.connect_timeout_seconds)
        return connection + self.statement_seconds


def create_engine(url: str, limits: DatabaseLimits | None = None) -> AsyncEngine:
    """An engine for ``url`` (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``) with bounded waits.

    Its errors never print a statement's parameters (``hide_parameters``): they hold ciphertexts
    and the ids that decrypt them."""
    limits = limits or DatabaseLimits()
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, limits)
    if backend == "postgresql":
        return _postgres_engine(url, limits)
    raise ValueError(f"unsupported database backend {backend!r}")


def _sqlite_engine(url: str, limits: DatabaseLimits) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        connect_args={"timeout": limits.statement_timeout_ms / 1000},
        pool_pre_ping=True,
        hide_parameters=True,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level, so that the "begin" hook below decides how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={limits.statement_timeout_ms}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(connection: sa.Connection) -> None:
        # Take the write lock at the start: a deferred transaction that reads and then writes fails
        # with "database is locked" when another writer committed in between.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgres_engine(url: str, limits: DatabaseLimits) -> AsyncEngine:
    # No pool_pre_ping: Transaction retries its first statement on a connection found closed.
    return create_async_engine(
        url,
        hide_parameters=True,
        pool_size=limits.pool_size,
        max_overflow=limits.max_overflow,
        pool_timeout=limits.pool_timeout_seconds,
        pool_recycle=1800,
        connect_args={
            "timeout": limits.connect_timeout_seconds,
            "command_timeout": limits.statement_seconds,
            "server_settings": {
                "statement_timeout": str(limits.statement_timeout_ms),
                "lock_timeout": str(limits.lock_timeout_ms),
                "idle_in_transaction_session_timeout": "10000",
                "application_name": "mfa-service",
            },
        },
    )
