"""Real services for the tests: a fresh Postgres database per run and a real Vault (OpenBao) server.

A service that cannot be had fails the run with a message that says what to start; nothing is
silently skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrations.runner import upgrade
from adapters.vault.setup import ensure_transit_key, service_policy
from tests.support.postgres import PostgresUnavailable, fresh_database
from tests.support.sync import run_in_own_loop
from tests.support.vault_server import VaultServer, VaultServerUnavailable


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated database for this run, dropped at its end."""
    try:
        with fresh_database() as url:
            run_in_own_loop(_migrate(url))
            yield url
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def truncate_all(url: str) -> None:
    """Empties every table, so that each test starts from a clean database."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "TRUNCATE enrollments, audit_events, user_throttles, recovery_codes,"
                    " notification_outbox, idempotency_keys"
                )
            )
    finally:
        await engine.dispose()


def _provision_transit_key(server: VaultServer) -> None:
    ensure_transit_key(server.client())


@dataclass(frozen=True)
class SharedVault:
    server: VaultServer
    service_token: str
    """A token that holds only the service policy: encrypt and decrypt on the key."""


@pytest.fixture(scope="session")
def shared_vault() -> Iterator[SharedVault]:
    """A real OpenBao dev server for this run, with the transit key set up as ``vault-setup`` does
    and a token holding only the service's policy."""
    try:
        with VaultServer(setup=_provision_transit_key) as server:
            client = server.client()
            client.sys.create_or_update_policy("mfa-service", service_policy())
            token = client.auth.token.create(policies=["mfa-service"], ttl="2h")["auth"][
                "client_token"
            ]
            yield SharedVault(server, token)
    except VaultServerUnavailable as error:
        pytest.fail(str(error), pytrace=False)
