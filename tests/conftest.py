"""Real services for the tests: a fresh Postgres database per run and a real Vault (OpenBao) server.

A service that cannot be had fails the run with a message that says what to start; nothing is
silently skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrations.runner import upgrade
from tests.support.postgres import PostgresUnavailable, fresh_database
from tests.support.sync import run_in_own_loop


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated database for this run, dropped at its end."""
    try:
        with fresh_database() as url:
            run_in_own_loop(_migrate(url))
            yield url
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def truncate_all(url: str) -> None:
    """Empties every table, so that each test starts from a clean database."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("TRUNCATE enrollments, audit_events, user_throttles, recovery_codes")
            )
    finally:
        await engine.dispose()
