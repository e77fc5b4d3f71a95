"""Tokens, keys and cipher builders for the Vault adapter tests."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from adapters.vault.client import VaultClient
from adapters.vault.names import DEFAULT_MOUNT
from adapters.vault.settings import Credentials
from adapters.vault.setup import ensure_transit_key, rotation_job_policy, service_policy
from adapters.vault.transit_cipher import VaultTransitCipher
from tests.support.vault_server import VaultServer

TEST_TIMEOUT_SECONDS = 1.0
"""The adapter's HTTP timeout in these tests; the client's deadline is half a second more."""


class CipherFactory(Protocol):
    """Builds a cipher on ``server`` (or on ``addr``, e.g. a proxy) for ``key``.

    Authenticates with ``auth``, else with ``token``, else with the root token. At most
    ``max_concurrency`` requests are in flight at once (the client's connections).
    """

    def __call__(
        self,
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
    ) -> VaultTransitCipher: ...


class ClientFactory(Protocol):
    """Builds a client for ``addr`` with ``auth`` and the tests' short timeout, trusting
    ``ca_cert`` if given, with at most ``max_connections`` requests in flight; closed after the
    test."""

    def __call__(
        self,
        addr: str,
        auth: Credentials,
        *,
        timeout: float = TEST_TIMEOUT_SECONDS,
        ca_cert: Path | None = None,
        max_connections: int = 16,
    ) -> VaultClient: ...


def provision(server: VaultServer, key: str) -> None:
    """Mounts transit if needed and creates ``key`` with the S4 settings, as an operator would."""
    ensure_transit_key(server.client(), key=key)


def policy_token(server: VaultServer, name: str, policy: str) -> str:
    """A token that holds only ``policy`` (written under ``name``), not even ``default``."""
    root = server.client()
    root.sys.create_or_update_policy(name=name, policy=policy)
    answer = root.auth.token.create(policies=[name], no_default_policy=True, ttl="10m")
    token: str = answer["auth"]["client_token"]
    return token


def service_token(server: VaultServer, key: str) -> str:
    """A token with the service's policy (S6) for ``key``."""
    return policy_token(server, f"service-{key}", service_policy(key=key))


def rotation_token(server: VaultServer, key: str) -> str:
    """A token with the rotation job's policy for ``key``."""
    return policy_token(server, f"rotation-{key}", rotation_job_policy(key=key))
