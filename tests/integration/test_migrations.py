"""The Alembic migrations go up and down on both databases, and match the tables the code uses."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrations.runner import (
    SchemaNotCurrent,
    downgrade,
    ensure_schema_is_current,
    upgrade,
)
from adapters.sqlalchemy.tables import metadata
from tests.support.postgres import fresh_database


def _columns_by_table(sync: sa.Connection) -> dict[str, set[str]]:
    inspector = sa.inspect(sync)
    return {t: {c["name"] for c in inspector.get_columns(t)} for t in metadata.tables}


async def _round_trip(url: str) -> None:
    engine = create_engine(url)
    try:
        with pytest.raises(SchemaNotCurrent):
            await ensure_schema_is_current(engine)
        await upgrade(engine)
        await ensure_schema_is_current(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
            columns = await connection.run_sync(_columns_by_table)
        assert set(metadata.tables) <= tables
        for name, table in metadata.tables.items():
            assert columns[name] == {column.name for column in table.columns}, name
        await downgrade(engine, "base")
        async with engine.connect() as connection:
            left = await connection.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
        assert left <= {"alembic_version"}
        await upgrade(engine)
    finally:
        await engine.dispose()


async def test_migrations_round_trip_on_sqlite(tmp_path: Path) -> None:
    await _round_trip(f"sqlite+aiosqlite:///{tmp_path / 'migrations.sqlite3'}")


async def test_migrations_round_trip_on_postgres() -> None:
    with fresh_database() as url:
        await _round_trip(url)
