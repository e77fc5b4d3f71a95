"""``single_statement.transaction`` on Postgres: a pooled connection the server closed is replaced
at BEGIN, never once the work began; whatever the work raises rolls back and leaves a connection
the pool can hand out again. The statements' own checkout answers a full pool and a refused
connect as ``engine.connect()`` does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import DatabaseLimits, create_engine
from adapters.sqlalchemy.single_statement import fetch_row, transaction
from adapters.sqlalchemy.transaction import Transaction
from application.errors import ConcurrentUpdate, DependencyUnavailable, StoreRefusedValue
from tests.support.postgres import as_admin
from tests.support.waiting import CEILING_SECONDS

BACKEND_PID = sa.text("SELECT pg_backend_pid()")
LOCK = 736_001
"""A transaction's advisory lock: held until it commits or rolls back."""


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_url, DatabaseLimits(pool_size=1, max_overflow=0))
    yield engine
    await engine.dispose()


async def _lock_is_free(postgres_url: str) -> bool:
    return bool(await as_admin("SELECT pg_try_advisory_lock($1)", LOCK, url=postgres_url))


async def _backend(engine: AsyncEngine) -> int:
    return int((await fetch_row(engine, "SELECT pg_backend_pid()"))[0])


async def test_the_work_commits_and_its_transaction_ends(
    engine: AsyncEngine, postgres_url: str
) -> None:
    async def work(driver: asyncpg.Connection) -> int:
        await driver.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
        return int(await driver.fetchval("SELECT pg_backend_pid()"))

    pid = await transaction(engine, work)

    assert await _lock_is_free(postgres_url)
    assert await _backend(engine) == pid


async def test_a_refused_constraint_is_a_concurrent_update_and_rolls_back(
    engine: AsyncEngine, postgres_url: str
) -> None:
    async def duplicate(driver: asyncpg.Connection) -> None:
        await driver.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
        await driver.execute("CREATE TEMPORARY TABLE once (id int PRIMARY KEY) ON COMMIT DROP")
        await driver.execute("INSERT INTO once VALUES (1), (1)")

    with pytest.raises(ConcurrentUpdate):
        await transaction(engine, duplicate)

    assert await _lock_is_free(postgres_url)


async def test_a_pooled_connection_closed_by_the_server_is_replaced_at_begin(
    engine: AsyncEngine, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = await _backend(engine)
    assert await as_admin("SELECT pg_terminate_backend($1)", before)
    runs: list[int] = []

    async def work(driver: asyncpg.Connection) -> None:
        runs.append(int(await driver.fetchval("SELECT pg_backend_pid()")))

    await transaction(engine, work)

    assert len(runs) == 1 and runs[0] != before
    assert "was closed" in caplog.text


async def test_a_connection_lost_during_the_work_is_not_used_again_and_the_work_not_rerun(
    engine: AsyncEngine, postgres_url: str
) -> None:
    runs: list[int] = []

    async def work(driver: asyncpg.Connection) -> None:
        pid = int(await driver.fetchval("SELECT pg_backend_pid()"))
        runs.append(pid)
        assert await as_admin("SELECT pg_terminate_backend($1)", pid)
        await driver.execute("SELECT 1")

    with pytest.raises(DependencyUnavailable):
        await transaction(engine, work)

    assert len(runs) == 1
    assert await _backend(engine) != runs[0]


async def test_the_pooled_connections_closed_with_it_are_replaced_too(postgres_url: str) -> None:
    engine = create_engine(postgres_url, DatabaseLimits(pool_size=3, max_overflow=0))
    try:
        connections = [await engine.connect() for _ in range(3)]
        pids = [
            int((await c.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one())
            for c in connections
        ]
        for connection in connections:
            await connection.close()
        for pid in pids:
            assert await as_admin("SELECT pg_terminate_backend($1)", pid)

        assert await _backend(engine) not in pids
        assert await transaction(engine, lambda driver: driver.fetchval("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_a_full_pool_answers_unavailable_after_the_configured_wait(postgres_url: str) -> None:
    engine = create_engine(
        postgres_url, DatabaseLimits(pool_size=1, max_overflow=0, pool_timeout_seconds=0.3)
    )
    try:
        async with engine.connect() as holder:
            await holder.exec_driver_sql("SELECT 1")
            with pytest.raises(DependencyUnavailable) as refused:
                await asyncio.wait_for(fetch_row(engine, "SELECT 1"), CEILING_SECONDS)
        assert refused.value.cause == "TimeoutError"
        assert (await fetch_row(engine, "SELECT 1"))[0] == 1
    finally:
        await engine.dispose()


async def test_a_connect_the_server_refuses_is_unavailable_with_its_sqlstate(
    postgres_url: str,
) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/no_such_database"
    engine = create_engine(missing, DatabaseLimits(pool_size=1, max_overflow=0))
    try:
        with pytest.raises(DependencyUnavailable) as refused:
            await fetch_row(engine, "SELECT 1")
    finally:
        await engine.dispose()
    assert refused.value.cause is not None and "SQLSTATE 3D000" in refused.value.cause


async def _refuses(driver: asyncpg.Connection) -> None:
    await driver.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
    raise LookupError("the work's own refusal")


async def _sends_a_value_the_driver_cannot_encode(driver: asyncpg.Connection) -> None:
    await driver.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
    await driver.fetchval("SELECT $1::int", "not a number")


@pytest.mark.parametrize(
    ("work", "raised"),
    [(_refuses, LookupError), (_sends_a_value_the_driver_cannot_encode, StoreRefusedValue)],
    ids=["the-works-own-error", "a-value-the-driver-cannot-encode"],
)
async def test_what_the_work_raises_rolls_back_and_the_connection_is_pooled_again(
    engine: AsyncEngine,
    postgres_url: str,
    work: Callable[[asyncpg.Connection], Awaitable[None]],
    raised: type[Exception],
) -> None:
    pid = await _backend(engine)

    with pytest.raises(raised):
        await transaction(engine, work)

    assert await _lock_is_free(postgres_url)
    assert await _backend(engine) == pid, "the connection was replaced, not pooled again"
    unit = Transaction(engine)  # SQLAlchemy's own transactions still begin on it
    await unit.open()
    try:
        assert (await unit.execute(BACKEND_PID)).scalar_one() == pid
    finally:
        await unit.close()


async def test_the_transaction_reads_committed_whatever_the_servers_default(
    postgres_url: str,
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    await as_admin(
        f"ALTER DATABASE \"{database}\" SET default_transaction_isolation = 'repeatable read'",
    )
    engine = create_engine(postgres_url, DatabaseLimits(pool_size=1, max_overflow=0))
    try:

        async def isolation(driver: asyncpg.Connection) -> str:
            return str(await driver.fetchval("SHOW transaction_isolation"))

        assert await transaction(engine, isolation) == "read committed"
    finally:
        await engine.dispose()
        await as_admin(f'ALTER DATABASE "{database}" RESET default_transaction_isolation')
