"""Dependency metrics: Postgres statements by family, the pool's connections in use and waiting,
Vault (or any cipher) calls and their failures by the error's class."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.prometheus.database import measure_engine
from adapters.prometheus.measured_cipher import MeasuredCipher
from adapters.sqlalchemy.engine import DatabaseLimits, create_engine
from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.single_statement import fetch_row
from adapters.sqlalchemy.statement_family import statement_family
from adapters.sqlalchemy.transaction import Transaction
from application.errors import DependencyUnavailable
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret
from tests.support.doubles import UnavailableCipher
from tests.support.postgres import as_admin, fresh_database
from tests.support.waiting import CEILING_SECONDS, eventually


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_statement_family_is_its_verb_and_first_table_never_a_value() -> None:
    assert statement_family("SELECT e.id FROM enrollments AS e WHERE e.user_id = $1") == (
        "select enrollments"
    )
    assert statement_family('UPDATE "notification_outbox" SET due_at=$1') == (
        "update notification_outbox"
    )
    assert statement_family("INSERT INTO audit_events (action) VALUES ($1)") == (
        "insert audit_events"
    )
    assert statement_family("SELECT 1") == "select"
    assert statement_family(
        "WITH old AS (SELECT id FROM enrollments FOR UPDATE NOWAIT),"
        " gone AS (DELETE FROM enrollments WHERE id = $1)"
        " INSERT INTO audit_events (action) SELECT $2 FROM old"
    ) == ("with delete enrollments")


async def test_postgres_statements_and_pool_are_measured(postgres_url: str) -> None:
    engine = create_engine(postgres_url, DatabaseLimits(pool_size=1, max_overflow=0))
    measure_engine(engine, "postgresql")
    family = {"dependency": "postgresql", "operation": "select enrollments"}
    before = _value("mfa_dependency_duration_seconds_count", **family)
    in_use_before = _value("mfa_db_pool_connections_in_use")
    try:
        async with engine.connect() as holder:
            await holder.execute(text("SELECT count(*) FROM enrollments"))
            assert _value("mfa_db_pool_connections_in_use") == in_use_before + 1
            waiter = asyncio.create_task(_select_one(engine))
            await _eventually(lambda: _value("mfa_db_pool_waiting") >= 1, "a waiting checkout")
        await asyncio.wait_for(waiter, CEILING_SECONDS)
        assert _value("mfa_db_pool_waiting") == 0
        assert _value("mfa_db_pool_connections_in_use") == in_use_before
        assert _value("mfa_dependency_duration_seconds_count", **family) == before + 2
    finally:
        await engine.dispose()


async def test_a_failing_statement_counts_as_an_error_of_its_family(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    measure_engine(engine, "postgresql")
    labels = {"dependency": "postgresql", "operation": "select no_such_table"}
    try:
        with pytest.raises(Exception, match="no_such_table"):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT * FROM no_such_table"))
    finally:
        await engine.dispose()
    errors = _errors(operation=labels["operation"])
    assert [(error, value) for _, error, value in errors] == [("ProgrammingError", 1.0)]


async def test_a_failed_commit_counts_as_transaction_not_connect() -> None:
    """A deferred constraint is checked at COMMIT: the connection is live, no statement failed."""
    with fresh_database() as url:
        engine = create_engine(url)
        dependency = "postgresql failed commit"  # the registry is the process's: a label of its own
        measure_engine(engine, dependency)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("CREATE TABLE pairs (n int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
                )
            with pytest.raises(Exception, match="pairs_n_key"):
                async with engine.begin() as connection:
                    await connection.execute(text("INSERT INTO pairs VALUES (1), (1)"))
        finally:
            await engine.dispose()
    assert _errors(dependency=dependency) == [("transaction", "UniqueViolationError", 1.0)]


PATHS = ["unit of work", "one statement"]


async def _use(engine: AsyncEngine, path: str) -> None:
    """One checkout and statement the way ``path`` takes them, errors translated as each path's
    callers have them."""
    if path == "unit of work":
        transaction = Transaction(engine)
        try:
            await transaction.open()
            with translated_errors():  # as the repositories run their statements
                await transaction.execute(text("SELECT 1"))
        finally:
            await transaction.close()
    else:
        await fetch_row(engine, "SELECT 1")


def _errors(**labels: str) -> list[tuple[str, str, float]]:
    """``(operation, error, count)`` of every dependency error counted with ``labels``."""
    return [
        (sample.labels["operation"], sample.labels["error"], sample.value)
        for metric in REGISTRY.collect()
        if metric.name == "mfa_dependency_errors"
        for sample in metric.samples
        if sample.name == "mfa_dependency_errors_total"
        and all(sample.labels.get(name) == value for name, value in labels.items())
    ]


@pytest.mark.parametrize("path", PATHS)
async def test_a_refused_connect_counts_once_as_connect_whatever_the_path(
    postgres_url: str, path: str
) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/no_such_database"
    engine = create_engine(missing, DatabaseLimits(pool_size=1, max_overflow=0))
    dependency = f"postgresql refused, {path}"  # the registry is the process's: a label of its own
    measure_engine(engine, dependency)
    try:
        with pytest.raises(DependencyUnavailable):
            await _use(engine, path)
    finally:
        await engine.dispose()
    assert _errors(dependency=dependency) == [("connect", "Error", 1.0)]


@pytest.mark.parametrize("path", PATHS)
async def test_a_refused_reconnect_of_a_pooled_connection_counts_as_connect(path: str) -> None:
    """A failover as the pool sees it: its connection closed by the server, the new one refused
    (here: the database stops accepting connections)."""
    with fresh_database() as url:
        name = url.rsplit("/", 1)[1]
        engine = create_engine(url, DatabaseLimits(pool_size=1, max_overflow=0))
        dependency = f"postgresql reconnect refused, {path}"
        measure_engine(engine, dependency)
        try:
            await _use(engine, path)
            await as_admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            await as_admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            with pytest.raises(DependencyUnavailable):
                await _use(engine, path)
        finally:
            await engine.dispose()
    assert _errors(dependency=dependency, operation="connect") == [("connect", "Error", 1.0)]


async def test_a_cipher_failure_is_timed_and_counted_by_its_class() -> None:
    cipher = MeasuredCipher(UnavailableCipher(), "vault")
    labels = {"dependency": "vault", "operation": "decrypt"}
    count = _value("mfa_dependency_duration_seconds_count", **labels)
    errors = _value("mfa_dependency_errors_total", **labels, error="DependencyUnavailable")

    with pytest.raises(DependencyUnavailable):
        await cipher.decrypt("vault:v1:AAAA", SecretOwner("alice", uuid.uuid4()))
    with pytest.raises(DependencyUnavailable):
        await cipher.encrypt(TotpSecret.from_entropy(bytes(20)), SecretOwner("a", uuid.uuid4()))

    assert _value("mfa_dependency_duration_seconds_count", **labels) == count + 1
    assert (
        _value("mfa_dependency_errors_total", **labels, error="DependencyUnavailable") == errors + 1
    )


async def _select_one(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT id FROM enrollments LIMIT 1"))


async def _eventually(condition: Callable[[], bool], what: str) -> None:
    await eventually(condition, f"the metrics show {what}")
