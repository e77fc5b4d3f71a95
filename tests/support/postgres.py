"""A throw-away Postgres database on the machine's server (127.0.0.1:5432 unless MFA_TEST_POSTGRES)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from tests.support.sync import run_in_own_loop

ADMIN_DSN = os.environ.get("MFA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


class PostgresUnavailable(RuntimeError):
    pass


async def as_admin(statement: str, *arguments: object, url: str | None = None) -> object:
    """The first value ``statement`` returns, run on a connection of its own to the server's admin
    database, or to the database of ``url`` (an advisory lock is a database's own)."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1) if url else ADMIN_DSN
    try:
        connection = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        raise PostgresUnavailable(
            f"the tests need Postgres at {dsn} ({error}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "or point MFA_TEST_POSTGRES at a server where the user may create databases."
        ) from error
    try:
        return await connection.fetchval(statement, *arguments)
    finally:
        await connection.close()


@contextmanager
def fresh_database() -> Iterator[str]:
    """Creates an empty database, yields its SQLAlchemy URL, and drops it afterwards."""
    name = f"mfa_test_{secrets.token_hex(6)}"
    run_in_own_loop(as_admin(f'CREATE DATABASE "{name}"'))
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        run_in_own_loop(as_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
