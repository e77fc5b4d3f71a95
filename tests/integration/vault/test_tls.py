"""TLS to Vault: trust only the configured CA, and fail closed without it."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import requests

from adapters.vault.client import VaultClient
from adapters.vault.names import DEFAULT_KEY
from adapters.vault.operator_client import build_operator_client
from adapters.vault.probe import VaultProbe
from adapters.vault.settings import TokenAuth, VaultSettings
from adapters.vault.setup import ensure_transit_key
from adapters.vault.transit_cipher import VaultTransitCipher
from application.errors import DependencyUnavailable
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret
from tests.integration.vault.helpers import ClientFactory, provision
from tests.support.vault_server import VaultServer


@pytest.fixture
def tls_vault() -> Iterator[VaultServer]:
    with VaultServer(setup=lambda server: provision(server, DEFAULT_KEY), tls=True) as server:
        yield server


async def _round_trip(client: VaultClient) -> None:
    cipher = VaultTransitCipher(client)
    owner = SecretOwner("alice", uuid.uuid4())
    secret = TotpSecret.from_entropy(os.urandom(20))
    assert await cipher.decrypt(await cipher.encrypt(secret, owner), owner) == secret


async def test_cipher_works_over_tls_with_the_configured_ca(
    tls_vault: VaultServer, make_client: ClientFactory
) -> None:
    client = make_client(tls_vault.addr, TokenAuth(tls_vault.root_token), ca_cert=tls_vault.ca_cert)
    await _round_trip(client)


async def test_server_certificate_from_an_untrusted_ca_is_unavailable(
    tls_vault: VaultServer, make_client: ClientFactory
) -> None:
    client = make_client(tls_vault.addr, TokenAuth(tls_vault.root_token))
    with pytest.raises(DependencyUnavailable):
        await VaultProbe(client).check()
    with pytest.raises(DependencyUnavailable):
        await VaultTransitCipher(client).encrypt(
            TotpSecret.from_entropy(os.urandom(20)), SecretOwner("alice", uuid.uuid4())
        )


async def test_a_directory_of_trusted_certificates_serves_as_the_ca(
    tls_vault: VaultServer, tmp_path: Path
) -> None:
    assert tls_vault.ca_cert is not None
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    shutil.copy(tls_vault.ca_cert, trusted / "vault-ca.pem")
    subprocess.run(["openssl", "rehash", str(trusted)], check=True, capture_output=True)
    settings = VaultSettings(tls_vault.addr, TokenAuth(tls_vault.root_token), ca_cert=trusted)
    async with _client(settings) as client:
        await _round_trip(client)


async def test_verification_turned_off_accepts_any_certificate(tls_vault: VaultServer) -> None:
    settings = VaultSettings(tls_vault.addr, TokenAuth(tls_vault.root_token), tls_verify=False)
    async with _client(settings) as client:
        await _round_trip(client)


async def test_hvacs_ca_variable_is_not_trusted(
    tls_vault: VaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_CACERT", str(tls_vault.ca_cert))
    settings = VaultSettings(tls_vault.addr, TokenAuth(tls_vault.root_token))
    async with _client(settings) as client:
        with pytest.raises(DependencyUnavailable):
            await VaultProbe(client).check()


def test_the_operators_client_trusts_the_configured_ca_only(tls_vault: VaultServer) -> None:
    trusting = VaultSettings(
        tls_vault.addr, TokenAuth(tls_vault.root_token), ca_cert=tls_vault.ca_cert
    )
    assert ensure_transit_key(build_operator_client(trusting)).latest_version == 1
    untrusting = VaultSettings(tls_vault.addr, TokenAuth(tls_vault.root_token))
    with pytest.raises(requests.exceptions.SSLError):
        build_operator_client(untrusting).sys.read_health_status(method="GET")


@asynccontextmanager
async def _client(settings: VaultSettings) -> AsyncIterator[VaultClient]:
    client = VaultClient(settings)
    try:
        yield client
    finally:
        await client.aclose()
