"""TLS to Vault: trust only the configured CA, and fail closed without it."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.vault.client import TokenAuth, VaultSession, VaultSettings
from adapters.vault.gateway import VaultGateway
from adapters.vault.names import DEFAULT_KEY
from adapters.vault.probe import VaultProbe
from adapters.vault.transit_cipher import VaultTransitCipher
from application.errors import DependencyUnavailable
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret
from tests.integration.vault.helpers import SessionFactory, provision
from tests.support.vault_server import VaultServer


@pytest.fixture
def tls_vault() -> Iterator[VaultServer]:
    with VaultServer(setup=lambda server: provision(server, DEFAULT_KEY), tls=True) as server:
        yield server


async def _round_trip(gateway: VaultGateway) -> None:
    cipher = VaultTransitCipher(gateway)
    owner = SecretOwner("alice", uuid.uuid4())
    secret = TotpSecret.from_entropy(os.urandom(20))
    assert await cipher.decrypt(await cipher.encrypt(secret, owner), owner) == secret


async def test_cipher_works_over_tls_with_the_configured_ca(
    tls_vault: VaultServer, make_session: SessionFactory
) -> None:
    session = make_session(
        tls_vault.addr, TokenAuth(tls_vault.root_token), ca_cert=tls_vault.ca_cert
    )
    await _round_trip(VaultGateway(session))


async def test_server_certificate_from_an_untrusted_ca_is_unavailable(
    tls_vault: VaultServer, make_session: SessionFactory
) -> None:
    gateway = VaultGateway(make_session(tls_vault.addr, TokenAuth(tls_vault.root_token)))
    with pytest.raises(DependencyUnavailable):
        await VaultProbe(gateway).check()
    with pytest.raises(DependencyUnavailable):
        await VaultTransitCipher(gateway).encrypt(
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
    await _round_trip(VaultGateway(VaultSession(settings)))


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
async def test_verification_turned_off_accepts_any_certificate(tls_vault: VaultServer) -> None:
    settings = VaultSettings(tls_vault.addr, TokenAuth(tls_vault.root_token), tls_verify=False)
    await _round_trip(VaultGateway(VaultSession(settings)))


async def test_hvacs_ca_variable_is_not_trusted(
    tls_vault: VaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_CACERT", str(tls_vault.ca_cert))
    settings = VaultSettings(tls_vault.addr, TokenAuth(tls_vault.root_token))
    with pytest.raises(DependencyUnavailable):
        await VaultProbe(VaultGateway(VaultSession(settings))).check()
