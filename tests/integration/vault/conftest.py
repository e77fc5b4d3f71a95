"""Fixtures for the Vault adapter tests, on real OpenBao dev servers.

Most tests share one server and get a transit key of their own; tests that seal, stop or restart
Vault get a server of their own. Every server, proxy and client session is stopped or closed in the fixture's
finalizer, also when the test fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.vault.client import AppRoleAuth, TokenAuth, VaultSession, VaultSettings
from adapters.vault.gateway import VaultGateway
from adapters.vault.names import DEFAULT_KEY, DEFAULT_MOUNT
from adapters.vault.transit_cipher import VaultTransitCipher
from tests.integration.vault.helpers import (
    TEST_TIMEOUT_SECONDS,
    CipherFactory,
    SessionFactory,
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
def make_session() -> Iterator[SessionFactory]:
    sessions: list[VaultSession] = []

    def build(
        addr: str,
        auth: TokenAuth | AppRoleAuth,
        *,
        timeout: float = TEST_TIMEOUT_SECONDS,
        ca_cert: Path | None = None,
    ) -> VaultSession:
        session = VaultSession(VaultSettings(addr, auth, timeout=timeout, ca_cert=ca_cert))
        sessions.append(session)
        return session

    yield build
    for session in sessions:
        session.close()


@pytest.fixture
def coalesce_window() -> float | None:
    """No coalescing; a test module overrides this fixture to run its tests both ways."""
    return None


@pytest.fixture
def make_cipher(make_session: SessionFactory, coalesce_window: float | None) -> CipherFactory:
    def build(
        server: VaultServer,
        key: str,
        *,
        token: str | None = None,
        auth: TokenAuth | AppRoleAuth | None = None,
        addr: str | None = None,
        timeout: float = TEST_TIMEOUT_SECONDS,
        max_concurrency: int = 16,
        batch_size: int = 100,
        mount: str = DEFAULT_MOUNT,
    ) -> VaultTransitCipher:
        session = make_session(
            addr or server.addr, auth or TokenAuth(token or server.root_token), timeout=timeout
        )
        gateway = VaultGateway(session, max_concurrency=max_concurrency)
        return VaultTransitCipher(
            gateway,
            key=key,
            mount=mount,
            batch_size=batch_size,
            coalesce_window=coalesce_window,
        )

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
