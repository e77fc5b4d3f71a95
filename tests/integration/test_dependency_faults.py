"""The production stack when a dependency fails (SECURITY.md "Faults the service must survive"):
each gives 503 with Retry-After within the dependency's bound, writes nothing, returns no secret,
and the service works again once the dependency is back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from adapters.jwt.dev_issuer import DevelopmentIssuer
from adapters.sqlalchemy.engine import create_engine
from entrypoints.composition import create_app
from entrypoints.settings import (
    DEFAULT_AUDIENCE,
    DEVELOPMENT_TOKEN_ISSUER,
    CipherKind,
    Settings,
    VaultConfig,
)
from tests.conftest import SharedVault, truncate_all
from tests.support.delay_proxy import DelayProxy
from tests.support.in_process import serve_in_process

HANG_GUARD_SECONDS = 15
"""Fails a request that hangs instead of answering; the service's own bound is about 2 s."""


@dataclass
class Stack:
    client: httpx.AsyncClient
    vault: DelayProxy
    database: DelayProxy
    database_url: str
    token: str

    async def enroll(self) -> Any:
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            return await self.client.post(
                "/settings/MfaSecret",
                json={"mfaMethod": "totp"},
                headers={"Authorization": f"Bearer {self.token}"},
            )

    async def rows(self) -> int:
        engine = create_engine(self.database_url)
        try:
            async with engine.connect() as connection:
                query = sa.text("SELECT count(*) FROM enrollments")
                return int((await connection.execute(query)).scalar_one())
        finally:
            await engine.dispose()


@pytest.fixture
def proxies(shared_vault: SharedVault) -> Iterator[tuple[DelayProxy, DelayProxy]]:
    with (
        DelayProxy("127.0.0.1", shared_vault.server.port) as vault,
        DelayProxy("127.0.0.1", 5432) as database,
    ):
        yield vault, database


@pytest.fixture
async def stack(
    tmp_path: Path,
    postgres_url: str,
    shared_vault: SharedVault,
    proxies: tuple[DelayProxy, DelayProxy],
) -> AsyncIterator[Stack]:
    await truncate_all(postgres_url)
    vault_proxy, database_proxy = proxies
    proxied_url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{database_proxy.port}")
    issuer = DevelopmentIssuer.load_or_create(
        tmp_path / "dev-issuer", DEVELOPMENT_TOKEN_ISSUER, DEFAULT_AUDIENCE
    )
    settings = Settings(
        data_dir=tmp_path,
        database_url=proxied_url,
        cipher=CipherKind.VAULT,
        vault=VaultConfig(
            addr=vault_proxy.addr, token=shared_vault.service_token, timeout_seconds=1.0
        ),
    )
    async with serve_in_process(create_app(settings)) as client:
        token = issuer.mint("alice", now=int(time.time()))
        yield Stack(client, vault_proxy, database_proxy, postgres_url, token)


def _assert_unavailable_and_secret_free(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    assert "secret" not in response.json()
    assert "otpauth" not in response.text


async def test_slow_vault_gives_503_and_nothing_is_stored(stack: Stack) -> None:
    stack.vault.delay = 5.0
    _assert_unavailable_and_secret_free(await stack.enroll())
    assert await stack.rows() == 0
    stack.vault.delay = 0.0
    assert (await stack.enroll()).status_code == 200


async def test_unreachable_vault_gives_503_and_then_recovers(stack: Stack) -> None:
    stack.vault.refuse = True
    stack.vault.drop_connections()
    _assert_unavailable_and_secret_free(await stack.enroll())
    assert await stack.rows() == 0
    stack.vault.refuse = False
    assert (await stack.enroll()).status_code == 200


async def test_sealed_vault_gives_503_and_then_recovers(
    stack: Stack, shared_vault: SharedVault
) -> None:
    shared_vault.server.seal()
    try:
        _assert_unavailable_and_secret_free(await stack.enroll())
        ready = await stack.client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["vault"] == "unavailable"
    finally:
        shared_vault.server.unseal()
    assert await stack.rows() == 0
    assert (await stack.enroll()).status_code == 200


async def test_unreachable_postgres_gives_503_and_then_recovers(stack: Stack) -> None:
    stack.database.refuse = True
    stack.database.drop_connections()
    _assert_unavailable_and_secret_free(await stack.enroll())
    ready = await stack.client.get("/health/ready")
    assert ready.json()["checks"]["database"] == "unavailable"
    stack.database.refuse = False
    assert (await stack.enroll()).status_code == 200
    assert await stack.rows() == 1


async def test_stalled_postgres_gives_503(stack: Stack) -> None:
    stack.database.delay = 10.0
    stack.database.drop_connections()
    _assert_unavailable_and_secret_free(await stack.enroll())
    stack.database.delay = 0.0
    stack.database.drop_connections()
    assert (await stack.enroll()).status_code == 200


async def test_connections_killed_between_requests_are_replaced(stack: Stack) -> None:
    assert (await stack.enroll()).status_code == 200
    stack.database.drop_connections()
    stack.vault.drop_connections()
    assert (await stack.enroll()).status_code == 200


async def test_vault_down_during_verify_counts_nothing_and_uses_up_no_step(
    stack: Stack, shared_vault: SharedVault
) -> None:  # V7
    import pyotp

    headers = {"Authorization": f"Bearer {stack.token}"}
    enrollment = (await stack.enroll()).json()
    totp = pyotp.TOTP(enrollment["secret"])
    now = time.time()
    confirmed = await stack.client.post(
        f"/settings/MfaSecret/{enrollment['enrollmentId']}/verification",
        json={"code": totp.at(now)},
        headers=headers,
    )
    assert confirmed.status_code == 200
    next_code = totp.at(now + 30)
    shared_vault.server.seal()
    try:
        down = await stack.client.post("/mfa/verify", json={"code": next_code}, headers=headers)
        assert down.status_code == 503
    finally:
        shared_vault.server.unseal()
    assert (
        await stack.client.post("/mfa/verify", json={"code": next_code}, headers=headers)
    ).status_code == 200
    wrong = "000000" if next_code != "000000" else "111111"
    rejected = await stack.client.post("/mfa/verify", json={"code": wrong}, headers=headers)
    assert rejected.json()["attemptsRemaining"] == 4
