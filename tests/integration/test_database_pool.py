"""The configured pool bounds the connections to Postgres; a request beyond it waits the configured
time and then gets DependencyUnavailable (503), instead of queueing without end."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from adapters.sqlalchemy.transaction import Transaction
from application.errors import DependencyUnavailable
from entrypoints.composition.adapters import database_engine
from entrypoints.settings import Settings

HANG_GUARD_SECONDS = 15
"""Fails a checkout that waits without end; the configured wait is 0.3 s."""


async def test_a_full_pool_answers_unavailable_after_the_configured_wait(postgres_url: str) -> None:
    settings = Settings(
        database_url=postgres_url, db_pool_size=2, db_max_overflow=1, db_pool_timeout_seconds=0.3
    )
    engine = database_engine(settings)
    try:
        async with AsyncExitStack() as held:
            for _ in range(3):
                transaction = Transaction(engine)
                await transaction.open()
                held.push_async_callback(transaction.close)
            async with asyncio.timeout(HANG_GUARD_SECONDS):
                with pytest.raises(DependencyUnavailable):
                    await Transaction(engine).open()
        after = Transaction(engine)
        await after.open()
        await after.close()
    finally:
        await engine.dispose()
