"""While Postgres restarts or stalls, or Vault is sealed or stalled, every request under load gets
its answer within the bound the README promises: the one it deserves, or 503 with Retry-After.

The bound is the service's own (``DatabaseLimits.longest_wait_seconds``: a wait for a connection,
then for a statement; Vault's deadline is shorter). The ceiling adds a margin for a loaded 2-core
machine: it catches a wait that has no bound or a bound that adds up, not a slow machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import asyncpg
import httpx
import pytest

from adapters.jwt.dev_issuer import DevelopmentIssuer
from adapters.sqlalchemy.engine import DatabaseLimits, create_engine
from adapters.sqlalchemy.migrations.runner import upgrade
from entrypoints.composition import create_app
from entrypoints.settings import (
    DEFAULT_AUDIENCE,
    DEVELOPMENT_TOKEN_ISSUER,
    CipherKind,
    Settings,
    VaultConfig,
)
from soak.postgres import PrivateCluster, private_cluster
from tests.conftest import SharedVault
from tests.support.delay_proxy import DelayProxy
from tests.support.in_process import serve_in_process

LOADED_MACHINE_MARGIN_SECONDS = 2.0
CEILING_SECONDS = DatabaseLimits().longest_wait_seconds + LOADED_MACHINE_MARGIN_SECONDS
CUSTOMERS = 8
POOL = DatabaseLimits(pool_size=2, max_overflow=1)
"""Fewer connections than customers: requests also wait for the pool while the database is stuck."""
STALL_SECONDS = 30.0
"""Longer than any bound: only the service's own timeouts can end the wait."""
FAULT_SECONDS = 4.0


@dataclass(frozen=True, slots=True)
class Answer:
    operation: str
    status: int | None
    seconds: float
    retry_after: str | None


@dataclass
class Load:
    client: httpx.AsyncClient
    tokens: list[str]
    answers: list[Answer] = field(default_factory=list)

    async def _customer(self, token: str, until: Callable[[], bool]) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        enroll = True
        while not until():
            started = time.monotonic()
            if enroll:  # the database and Vault
                request = self.client.post(
                    "/settings/MfaSecret", json={"mfaMethod": "totp"}, headers=headers
                )
            else:  # the database only
                request = self.client.get("/settings/MfaSecret", headers=headers)
            try:
                async with asyncio.timeout(STALL_SECONDS):
                    response = await request
                status, retry_after = response.status_code, response.headers.get("retry-after")
            except TimeoutError:
                status, retry_after = None, None
            self.answers.append(
                Answer(
                    "enroll" if enroll else "list",
                    status,
                    time.monotonic() - started,
                    retry_after,
                )
            )
            enroll = not enroll
            await asyncio.sleep(0.02)

    async def during(self, fault: Callable[[], object]) -> list[Answer]:
        """Runs ``fault`` (blocking, in a thread) while every customer sends requests; returns
        the answers from the fault's start until the service answers normally again."""
        self.answers.clear()
        done = asyncio.Event()
        customers = [
            asyncio.create_task(self._customer(token, done.is_set)) for token in self.tokens
        ]
        try:
            await asyncio.sleep(0.5)
            await asyncio.to_thread(fault)
            await asyncio.sleep(CEILING_SECONDS)
        finally:
            done.set()
            await asyncio.gather(*customers)
        return list(self.answers)


def _judge(answers: list[Answer]) -> None:
    assert answers, "no request was answered"
    wrong = [a for a in answers if a.status not in (200, 503)]
    assert not wrong, f"answers other than 200 or 503: {wrong[:5]}"
    unavailable = [a for a in answers if a.status == 503]
    assert unavailable, f"no 503 among {len(answers)} answers: the fault did not reach the requests"
    without = [a for a in unavailable if not (a.retry_after or "").isdigit()]
    assert not without, f"503 without Retry-After: {without[:5]}"
    slowest = max(a.seconds for a in unavailable)
    late = sorted((a for a in unavailable if a.seconds > CEILING_SECONDS), key=lambda a: a.seconds)
    assert not late, (
        f"{len(late)} of {len(unavailable)} 503s came later than {CEILING_SECONDS:.1f} s "
        f"(bound {DatabaseLimits().longest_wait_seconds:.1f} s + margin); slowest "
        f"{slowest:.2f} s: {late[-5:]}"
    )


def _stall(proxy: DelayProxy) -> None:
    """Nothing comes back through ``proxy`` for FAULT_SECONDS; then its connections are reset."""
    proxy.delay = STALL_SECONDS
    time.sleep(FAULT_SECONDS)
    proxy.delay = 0.0
    proxy.drop_connections()


@pytest.fixture(scope="module")
def postgres() -> Iterator[tuple[PrivateCluster, DelayProxy]]:
    """A Postgres of this module's own (the test restarts it), behind a proxy that can stall."""
    with private_cluster() as cluster, DelayProxy("127.0.0.1", cluster.port) as proxy:
        yield cluster, proxy


@pytest.fixture
async def load(
    tmp_path: Path,
    postgres: tuple[PrivateCluster, DelayProxy],
    shared_vault: SharedVault,
) -> AsyncIterator[tuple[Load, DelayProxy]]:
    cluster, database_proxy = postgres
    name = f"bound_{int(time.time() * 1000)}"
    admin = await asyncpg.connect(cluster.admin_dsn, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{database_proxy.port}/{name}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    issuer = DevelopmentIssuer.load_or_create(
        tmp_path / "dev-issuer", DEVELOPMENT_TOKEN_ISSUER, DEFAULT_AUDIENCE
    )
    with DelayProxy("127.0.0.1", shared_vault.server.port) as vault_proxy:
        settings = Settings(
            data_dir=tmp_path,
            database_url=url,
            cipher=CipherKind.VAULT,
            vault=VaultConfig(addr=vault_proxy.addr, token=shared_vault.service_token),
            db_pool_size=POOL.pool_size,
            db_max_overflow=POOL.max_overflow,
            enrollments_per_hour=100_000,
            max_concurrent_requests=0,
        )
        async with serve_in_process(create_app(settings)) as client:
            now = int(time.time())
            tokens = [issuer.mint(f"customer-{i}", now=now) for i in range(CUSTOMERS)]
            yield Load(client, tokens), vault_proxy


async def test_postgres_restart_answers_503_within_the_bound(
    load: tuple[Load, DelayProxy], postgres: tuple[PrivateCluster, DelayProxy]
) -> None:
    customers, _ = load
    cluster, _ = postgres

    _judge(await customers.during(cluster.restart))


async def test_stalled_postgres_answers_503_within_the_bound(
    load: tuple[Load, DelayProxy], postgres: tuple[PrivateCluster, DelayProxy]
) -> None:
    customers, _ = load
    _, proxy = postgres

    _judge(await customers.during(partial(_stall, proxy)))


async def test_sealed_vault_answers_503_within_the_bound(
    load: tuple[Load, DelayProxy], shared_vault: SharedVault
) -> None:
    customers, _ = load

    def seal() -> None:
        shared_vault.server.seal()
        try:
            time.sleep(FAULT_SECONDS)
        finally:
            shared_vault.server.unseal()

    _judge(await customers.during(seal))


async def test_stalled_vault_answers_503_within_the_bound(
    load: tuple[Load, DelayProxy],
) -> None:
    customers, proxy = load

    _judge(await customers.during(partial(_stall, proxy)))
