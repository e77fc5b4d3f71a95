"""Every adapter of the unit-of-work port: memory, SQLite and Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.memory.store import MemoryUnitOfWorkFactory
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrations.runner import upgrade
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from application.ports.unit_of_work import UnitOfWorkFactory
from tests.conftest import truncate_all


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def unit_of_work(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield MemoryUnitOfWorkFactory()
        return
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'contract.sqlite3'}")
        await upgrade(engine)
    else:
        url = request.getfixturevalue("postgres_url")
        await truncate_all(url)
        engine = create_engine(url)
    try:
        yield SqlUnitOfWorkFactory(engine)
    finally:
        await engine.dispose()
