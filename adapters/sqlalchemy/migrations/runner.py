"""Runs the Alembic migrations on an async engine, from the CLI and from tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration that points at these migrations and, if given, at ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Brings the schema to ``revision`` in one transaction."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Takes the schema back to ``revision`` in one transaction."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


class SchemaNotCurrent(Exception):
    """The database is not at the newest migration; run ``mfa-service migrate``."""


async def ensure_schema_is_current(engine: AsyncEngine) -> None:
    """Raises SchemaNotCurrent unless the database is at the head revision."""

    def check(sync: Connection) -> tuple[str | None, str | None]:
        config = alembic_config(sync)
        head = ScriptDirectory.from_config(config).get_current_head()
        current = MigrationContext.configure(sync).get_current_revision()
        return current, head

    async with engine.connect() as connection:
        current, head = await connection.run_sync(check)
    if current != head:
        raise SchemaNotCurrent(
            f"the database schema is at {current or 'nothing'}, the service needs {head}: "
            "run `mfa-service migrate`"
        )
