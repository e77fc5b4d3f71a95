"""Every adapter of the unit-of-work port: memory, SQLite and Postgres (see ``stores.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from application.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.ports.stores import STORES, open_store


@pytest.fixture(params=STORES)
async def unit_of_work(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[UnitOfWorkFactory]:
    async with open_store(request.param, tmp_path, request) as store:
        yield store.unit_of_work
