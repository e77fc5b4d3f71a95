"""The client is configured from its settings only: no token, proxy or CA from the environment."""

from __future__ import annotations

import os
import uuid

import pytest

from adapters.vault.operator_client import build_operator_client
from adapters.vault.settings import AppRoleAuth, TokenAuth, VaultSettings
from adapters.vault.transit_cipher import VaultTransitCipher
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret
from tests.integration.vault.helpers import CipherFactory, ClientFactory
from tests.support.vault_server import VaultServer


def test_vault_token_from_the_environment_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "hvs.from-the-environment")
    client = build_operator_client(
        VaultSettings("https://vault.example", AppRoleAuth("role", "id"))
    )
    assert client.token == ""


async def test_proxy_variables_do_not_reroute_vault_traffic(
    vault: VaultServer,
    transit_key: str,
    make_cipher: CipherFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    cipher = make_cipher(vault, transit_key)
    owner = SecretOwner("alice", uuid.uuid4())
    secret = TotpSecret.from_entropy(os.urandom(20))
    assert await cipher.decrypt(await cipher.encrypt(secret, owner), owner) == secret


@pytest.mark.parametrize(
    ("addr", "timeout"), [("vault.example:8200", 1.5), ("https://vault.example", 0)]
)
def test_settings_refuse_an_address_without_scheme_or_a_timeout_that_is_not_positive(
    addr: str, timeout: float
) -> None:
    with pytest.raises(ValueError, match="Vault"):
        VaultSettings(addr, TokenAuth("t"), timeout=timeout)


@pytest.mark.parametrize(("mount", "key"), [("transit", "mfa/*"), ("trans it", "mfa-totp")])
def test_cipher_refuses_key_and_mount_names_that_are_not_plain(
    vault: VaultServer, make_client: ClientFactory, mount: str, key: str
) -> None:
    client = make_client(vault.addr, TokenAuth(vault.root_token))
    with pytest.raises(ValueError, match="invalid transit"):
        VaultTransitCipher(client, key=key, mount=mount)
