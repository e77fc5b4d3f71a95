"""AppRole authentication: log in before the first call, log in again once when the token dies."""

from __future__ import annotations

import os
import uuid

import pytest
from hvac.exceptions import Forbidden

from adapters.vault.settings import AppRoleAuth, TokenAuth, VaultSettings
from adapters.vault.setup import service_policy
from application.errors import DependencyUnavailable
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret
from tests.integration.vault.helpers import CipherFactory, ClientFactory
from tests.support.vault_server import VaultServer

SECRET = TotpSecret.from_entropy(os.urandom(20))


def _approle(server: VaultServer, key: str) -> AppRoleAuth:
    """An AppRole holding the service policy for ``key``, on a fresh approle mount."""
    root = server.client()
    mount = f"approle-{uuid.uuid4().hex[:8]}"
    root.sys.enable_auth_method("approle", path=mount)
    root.sys.create_or_update_policy(name=f"service-{key}", policy=service_policy(key=key))
    root.auth.approle.create_or_update_approle(
        "mfa-service", token_policies=[f"service-{key}"], token_ttl="10m", mount_point=mount
    )
    role_id = root.auth.approle.read_role_id("mfa-service", mount_point=mount)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("mfa-service", mount_point=mount)["data"][
        "secret_id"
    ]
    return AppRoleAuth(role_id=role_id, secret_id=secret_id, mount_point=mount)


async def test_approle_login_gives_a_working_cipher(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key, auth=_approle(vault, transit_key))
    owner = SecretOwner("alice", uuid.uuid4())
    assert await cipher.decrypt(await cipher.encrypt(SECRET, owner), owner) == SECRET


async def test_approle_logs_in_again_after_its_token_is_revoked(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    auth = _approle(vault, transit_key)
    cipher = make_cipher(vault, transit_key, auth=auth)
    owner = SecretOwner("alice", uuid.uuid4())
    sealed = await cipher.encrypt(SECRET, owner)
    witness = vault.client(token="")
    witness.auth.approle.login(auth.role_id, auth.secret_id, mount_point=auth.mount_point)

    vault.client().sys.revoke_prefix(f"auth/{auth.mount_point}/")

    with pytest.raises(Forbidden):  # every token of the role is dead, the cipher's included
        witness.auth.token.lookup_self()
    assert await cipher.decrypt(sealed, owner) == SECRET


async def test_approle_with_a_wrong_secret_id_is_unavailable(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    good = _approle(vault, transit_key)
    wrong = AppRoleAuth(good.role_id, secret_id=str(uuid.uuid4()), mount_point=good.mount_point)
    cipher = make_cipher(vault, transit_key, auth=wrong)
    with pytest.raises(DependencyUnavailable) as raised:
        await cipher.encrypt(SECRET, SecretOwner("alice", uuid.uuid4()))
    assert wrong.secret_id not in str(raised.value)


def test_approle_secret_id_and_token_never_appear_in_repr() -> None:
    secret_id, token = str(uuid.uuid4()), "hvs.not-a-real-token"
    settings = VaultSettings("https://vault.example", AppRoleAuth("role", secret_id))
    assert secret_id not in repr(settings)
    assert token not in repr(VaultSettings("https://vault.example", TokenAuth(token)))


async def test_approle_login_at_start_up_fails_fast_on_a_wrong_secret_id(
    vault: VaultServer, transit_key: str, make_client: ClientFactory
) -> None:
    good = _approle(vault, transit_key)
    await make_client(vault.addr, good).login()
    wrong = AppRoleAuth(good.role_id, secret_id=str(uuid.uuid4()), mount_point=good.mount_point)
    with pytest.raises(DependencyUnavailable):
        await make_client(vault.addr, wrong).login()
