"""The real app in process, on each adapter set, with its internals at hand: the tests of its own
wiring (logs, metrics, the API viewer, the reference page, database errors, the audit tables) that
the black-box contract suite (tests/contract/http) cannot see.

A test module that checks something one adapter set decides alone (a log format, a page) narrows
``adapter_set`` with ``pytest.mark.parametrize("adapter_set", [...], indirect=True)``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from adapters.jwt.dev_issuer import DevelopmentIssuer
from adapters.memory.clock import FrozenClock
from adapters.memory.store import MemoryUnitOfWorkFactory
from entrypoints.composition import Overrides, create_app
from entrypoints.settings import (
    DEFAULT_AUDIENCE,
    DEVELOPMENT_TOKEN_ISSUER,
    CipherKind,
    Settings,
    VaultConfig,
)
from tests.conftest import SharedVault, truncate_all
from tests.contract.http.totp import Authenticator
from tests.support.in_process import serve_in_process
from tests.support.sync import run_in_own_loop

AdapterSet = str
ADAPTER_SETS = ["memory", "embedded", "production"]
"""memory: fakes; embedded: SQLite and the local key (the default); production: Postgres and Vault."""

START = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
"""The injected clock's time: the start of a 30-second step, so that codes are easy to place."""


def code_for(enrollment: dict[str, Any], at: datetime, steps: int = 0) -> str:
    """The code an app shows ``steps`` time steps after ``at``, from the URI the service returned."""
    return Authenticator.from_enrollment(enrollment).code(at.timestamp(), steps)


@pytest.fixture(params=ADAPTER_SETS)
def adapter_set(request: pytest.FixtureRequest) -> AdapterSet:
    return str(request.param)


@pytest.fixture
def database_url(adapter_set: AdapterSet, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if adapter_set == "production":
        url = str(request.getfixturevalue("postgres_url"))
        run_in_own_loop(truncate_all(url))
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'mfa.sqlite3'}"


@pytest.fixture
def settings(
    tmp_path: Path, database_url: str, adapter_set: AdapterSet, request: pytest.FixtureRequest
) -> Settings:
    vault = None
    if adapter_set == "production":
        shared: SharedVault = request.getfixturevalue("shared_vault")
        vault = VaultConfig(addr=shared.server.addr, token=shared.service_token)
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        local_key_file=tmp_path / "secret-encryption.key",
        issuer="Example Bank",
        cipher=CipherKind.VAULT if vault else CipherKind.LOCAL,
        vault=vault,
    )


@pytest.fixture
def issuer(settings: Settings) -> DevelopmentIssuer:
    return DevelopmentIssuer.load_or_create(
        settings.data_dir / "dev-issuer", DEVELOPMENT_TOKEN_ISSUER, DEFAULT_AUDIENCE
    )


@pytest.fixture
def token_for(issuer: DevelopmentIssuer) -> Callable[..., str]:
    def mint(subject: str = "alice", **claims: object) -> str:
        return issuer.mint(subject, now=int(time.time()), **claims)  # type: ignore[arg-type]

    return mint


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def overrides(adapter_set: AdapterSet, clock: FrozenClock) -> Overrides:
    if adapter_set == "memory":
        return Overrides(unit_of_work=MemoryUnitOfWorkFactory(), clock=clock)
    return Overrides(clock=clock)


@pytest.fixture
async def client(
    settings: Settings, overrides: Overrides, issuer: DevelopmentIssuer
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(create_app(settings, overrides)) as test_client:
        yield test_client


@pytest.fixture
def app_with(settings: Settings, issuer: DevelopmentIssuer) -> Callable[..., Litestar]:
    """Builds an app with other overrides or settings, for tests of one failure."""

    def build(overrides: Overrides | None = None, **setting_changes: object) -> Litestar:
        return create_app(replace(settings, **setting_changes), overrides)  # type: ignore[arg-type]

    return build
