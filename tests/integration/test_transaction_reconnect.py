"""Transaction on Postgres: a pooled connection the server closed is replaced at the first statement,
never in the middle of a transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import DatabaseLimits, create_engine
from adapters.sqlalchemy.transaction import Transaction

BACKEND_PID = sa.text("SELECT pg_backend_pid()")


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url, DatabaseLimits(pool_size=1, max_overflow=0))
    yield engine
    await engine.dispose()


async def _terminate(postgres_url: str, pid: int) -> None:
    dsn = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()


async def _backend_of_first_statement(engine: AsyncEngine) -> int:
    transaction = Transaction(engine)
    await transaction.open()
    try:
        return int((await transaction.execute(BACKEND_PID)).scalar_one())
    finally:
        await transaction.close()


async def test_a_pooled_connection_closed_by_the_server_is_replaced_at_the_first_statement(
    engine: AsyncEngine, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = await _backend_of_first_statement(engine)
    await _terminate(postgres_url, before)

    after = await _backend_of_first_statement(engine)

    assert after != before
    assert "closed by the server" in caplog.text


async def test_a_first_statement_that_fails_on_a_live_connection_is_not_run_again(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    pid = await _backend_of_first_statement(engine)
    transaction = Transaction(engine)
    await transaction.open()
    try:
        with pytest.raises(exc.DBAPIError) as raised:
            await transaction.execute(sa.text("SELECT 1 / 0"))
        assert not raised.value.connection_invalidated
    finally:
        await transaction.close()

    assert await _backend_of_first_statement(engine) == pid
    assert "closed by the server" not in caplog.text


async def test_a_connection_lost_after_the_first_statement_fails_the_transaction(
    engine: AsyncEngine, postgres_url: str
) -> None:
    transaction = Transaction(engine)
    await transaction.open()
    try:
        pid = int((await transaction.execute(BACKEND_PID)).scalar_one())
        await _terminate(postgres_url, pid)
        with pytest.raises(exc.DBAPIError) as raised:
            await transaction.execute(BACKEND_PID)
        assert raised.value.connection_invalidated
    finally:
        await transaction.close()

    assert await _backend_of_first_statement(engine) != pid
