"""The stores every port suite runs against, and the aggregates the suites put in them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.store import MemoryUnitOfWorkFactory
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrations.runner import upgrade
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.enrollment import CodeMatch, Enrollment
from domain.mfa_method import MfaMethod
from domain.policy import TotpPolicy
from tests.conftest import truncate_all

STORES = ["memory", "sqlite", "postgres"]


@dataclass(frozen=True, slots=True)
class OpenStore:
    unit_of_work: UnitOfWorkFactory
    engine: AsyncEngine | None
    """None for the memory store."""


@asynccontextmanager
async def open_store(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[OpenStore]:
    """An empty store of ``kind`` (memory, sqlite or postgres), migrated, disposed of afterwards."""
    if kind == "memory":
        yield OpenStore(MemoryUnitOfWorkFactory(), None)
        return
    if kind == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'contract.sqlite3'}")
        await upgrade(engine)
    else:
        url = request.getfixturevalue("postgres_url")
        await truncate_all(url)
        engine = create_engine(url)
    try:
        yield OpenStore(SqlUnitOfWorkFactory(engine), engine)
    finally:
        await engine.dispose()


def authenticator(
    user: str, now: datetime, *, confirmed_at_step: int | None = 100, device_name: str = "phone"
) -> Enrollment:
    """A six-digit authenticator of ``user`` started at ``now``: active, its step
    ``confirmed_at_step`` used by the confirmation, or pending if that is None."""
    enrollment = Enrollment.start(
        enrollment_id=uuid.uuid4(),
        user_id=user,
        method=MfaMethod.TOTP,
        policy=TotpPolicy(),
        sealed_secret="local:v1:c2VhbGVk",
        device_name=device_name,
        now=now,
        pending_ttl=timedelta(minutes=10),
    )
    if confirmed_at_step is not None:
        enrollment.confirm(CodeMatch(step=confirmed_at_step, offset=0, replayed=False), now)
    return enrollment


async def store_all(unit_of_work: UnitOfWorkFactory, *enrollments: Enrollment) -> None:
    async with unit_of_work() as uow:
        for enrollment in enrollments:
            await uow.enrollments.add(enrollment)
        await uow.commit()
