"""Fixtures for the Vault adapter tests, on real OpenBao dev servers.

Most tests share one server and get a transit key of their own; tests that seal, stop or restart
Vault get a server of their own. Every server, proxy and client is stopped or closed in the fixture's
finalizer, also when the test fails.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from adapters.vault.client import VaultClient
from adapters.vault.names import DEFAULT_KEY, DEFAULT_MOUNT
from adapters.vault.settings import Credentials, TokenAuth, VaultSettings
from adapters.vault.transit_cipher import VaultTransitCipher
from tests.integration.vault.helpers import (
    TEST_TIMEOUT_SECONDS,
    CipherFactory,
    ClientFactory,
    provision,
)
from tests.support.delay_proxy import DelayProxy
from tests.support.vault_server import VaultServer


@pytest.fixture(scope="session")
def vault() -> Iterator[VaultServer]:
    """One dev server for the tests that leave it running and unsealed."""
    with VaultServer() as server:
        yield server


@pytest.fixture
def own_vault() -> Iterator[VaultServer]:
    """A dev server for one test, which may seal, stop or restart it. The default key exists, and
    is created again after a restart."""
    with VaultServer(setup=lambda server: provision(server, DEFAULT_KEY)) as server:
        yield server


@pytest.fixture
def transit_key(vault: VaultServer) -> str:
    """A fresh key with the S4 settings on the shared server, for this test only."""
    key = f"mfa-totp-{uuid.uuid4().hex[:12]}"
    provision(vault, key)
    return key


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    clients: list[VaultClient] = []

    def build(
        addr: str,
        auth: Credentials,
        *,
        timeout: float = TEST_TIMEOUT_SECONDS,
        ca_cert: Path | None = None,
        max_connections: int = 16,
    ) -> VaultClient:
        settings = VaultSettings(addr, auth, timeout=timeout, ca_cert=ca_cert)
        client = VaultClient(settings, max_connections=max_connections)
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def make_cipher(make_client: ClientFactory) -> CipherFactory:
    def build(
        server: VaultServer,
        key: str,
        *,
        token: str | None = None,
        auth: Credentials | None = None,
        addr: str | None = None,
        timeout: float = TEST_TIMEOUT_SECONDS,
        max_concurrency: int = 16,
        batch_size: int = 100,
        mount: str = DEFAULT_MOUNT,
    ) -> VaultTransitCipher:
        client = make_client(
            addr or server.addr,
            auth or TokenAuth(token or server.root_token),
            timeout=timeout,
            max_connections=max_concurrency,
        )
        return VaultTransitCipher(client, key=key, mount=mount, batch_size=batch_size)

    return build


@pytest.fixture
def proxy_to() -> Iterator[Callable[[VaultServer], DelayProxy]]:
    """Starts delay proxies in front of servers."""
    proxies: list[DelayProxy] = []

    def start(server: VaultServer) -> DelayProxy:
        proxy = DelayProxy("127.0.0.1", server.port).start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()
