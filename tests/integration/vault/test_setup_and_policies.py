"""Provisioning the transit key (S4) and the least-privilege policies (S6), against a real OpenBao."""

from __future__ import annotations

import os
import uuid

import pytest
from hvac.exceptions import Forbidden

from adapters.vault.binding_check import OwnerBindingBroken, verify_owner_binding
from adapters.vault.setup import (
    TransitKeyMisconfigured,
    ensure_transit_key,
    rotation_job_policy,
    service_policy,
)
from application.errors import DependencyUnavailable
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret
from tests.integration.vault.helpers import (
    CipherFactory,
    policy_token,
    rotation_token,
    service_token,
)
from tests.support.vault_server import VaultServer

SECRET = TotpSecret.from_entropy(os.urandom(20))


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_s4_ensure_transit_key_creates_a_derived_non_exportable_aes_gcm_key(
    vault: VaultServer,
) -> None:
    key = _name("fresh")
    report = ensure_transit_key(vault.client(), key=key)

    settings = vault.client().secrets.transit.read_key(key)["data"]
    assert report.key_created
    assert report.latest_version == 1
    assert settings["type"] == "aes256-gcm96"
    assert settings["derived"] is True
    assert settings["exportable"] is False
    assert settings["convergent_encryption"] is False
    assert settings["allow_plaintext_backup"] is False


def test_ensure_transit_key_is_idempotent(vault: VaultServer) -> None:
    key = _name("twice")
    ensure_transit_key(vault.client(), key=key)
    vault.client().secrets.transit.rotate_key(key)

    again = ensure_transit_key(vault.client(), key=key)

    assert not again.mount_created
    assert not again.key_created
    assert again.latest_version == 2


def test_ensure_transit_key_mounts_the_engine_where_asked(vault: VaultServer) -> None:
    mount = _name("transit")
    report = ensure_transit_key(vault.client(), mount=mount, key="mfa-totp")
    assert report.mount_created
    assert f"{mount}/" in vault.client().sys.list_mounted_secrets_engines()["data"]
    assert not ensure_transit_key(vault.client(), mount=mount, key="mfa-totp").mount_created


def test_s4_ensure_transit_key_refuses_an_existing_key_that_is_not_derived(
    vault: VaultServer,
) -> None:
    key = _name("plain")
    ensure_transit_key(vault.client(), key=_name("mount-exists"))
    vault.client().secrets.transit.create_key(key, key_type="aes256-gcm96")

    with pytest.raises(TransitKeyMisconfigured, match="derived is False, must be True"):
        ensure_transit_key(vault.client(), key=key)


def test_s4_ensure_transit_key_refuses_an_exportable_key_of_another_type(
    vault: VaultServer,
) -> None:
    key = _name("exportable")
    ensure_transit_key(vault.client(), key=_name("mount-exists"))
    vault.client().secrets.transit.create_key(
        key, key_type="chacha20-poly1305", derived=True, exportable=True
    )

    with pytest.raises(TransitKeyMisconfigured) as raised:
        ensure_transit_key(vault.client(), key=key)
    assert "type is 'chacha20-poly1305'" in str(raised.value)
    assert "exportable is True" in str(raised.value)


def test_ensure_transit_key_refuses_a_mount_holding_another_engine(vault: VaultServer) -> None:
    mount = _name("kv")
    vault.client().sys.enable_secrets_engine("kv", path=mount)
    with pytest.raises(TransitKeyMisconfigured, match="not the transit engine"):
        ensure_transit_key(vault.client(), mount=mount)


@pytest.mark.parametrize(
    ("mount", "key"),
    [
        ("transit", "mfa-*"),
        ("transit", "../keys"),
        ("transit", 'a" {}'),
        ("/transit", "k"),
        ("", "k"),
    ],
)
def test_s6_names_that_could_widen_a_policy_are_refused(mount: str, key: str) -> None:
    with pytest.raises(ValueError, match="invalid transit"):
        service_policy(mount, key)


def test_s6_no_policy_grants_create() -> None:
    for policy in (service_policy(), rotation_job_policy()):
        assert "create" not in policy
        assert "*" not in policy
    assert 'path "transit/encrypt/mfa-totp"' in service_policy()
    assert 'path "transit/decrypt/mfa-totp"' in service_policy()
    assert "keys" not in service_policy()
    assert 'path "transit/rewrap/mfa-totp"' in rotation_job_policy()
    assert 'path "transit/keys/mfa-totp"' in rotation_job_policy()


async def test_s6_service_token_encrypts_and_decrypts_but_cannot_create_or_read_keys(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    token = service_token(vault, transit_key)
    cipher = make_cipher(vault, transit_key, token=token)
    owner = SecretOwner("alice", uuid.uuid4())
    assert await cipher.decrypt(await cipher.encrypt(SECRET, owner), owner) == SECRET

    as_service = vault.client(token=token)
    with pytest.raises(Forbidden):
        as_service.secrets.transit.create_key(_name("other"), derived=True)
    with pytest.raises(Forbidden):
        as_service.secrets.transit.read_key(transit_key)
    with pytest.raises(DependencyUnavailable):
        await cipher.newest_key_version()
    with pytest.raises(DependencyUnavailable):
        await cipher.rewrap([(await cipher.encrypt(SECRET, owner), owner)])


async def test_s6_a_misspelt_key_name_fails_instead_of_creating_a_key(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    misspelt = transit_key + "x"
    policy = service_policy(key=transit_key).replace(transit_key, misspelt)
    cipher = make_cipher(vault, misspelt, token=policy_token(vault, _name("typo"), policy))

    with pytest.raises(DependencyUnavailable):
        await cipher.encrypt(SECRET, SecretOwner("alice", uuid.uuid4()))
    assert misspelt not in (vault.client().secrets.transit.list_keys()["data"]["keys"])


async def test_s6_rotation_job_token_cannot_decrypt(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    owner = SecretOwner("alice", uuid.uuid4())
    sealed = await make_cipher(vault, transit_key).encrypt(SECRET, owner)
    job = make_cipher(vault, transit_key, token=rotation_token(vault, transit_key))
    with pytest.raises(DependencyUnavailable):
        await job.decrypt(sealed, owner)


async def test_s4_binding_check_passes_with_the_provisioned_key(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    await verify_owner_binding(
        make_cipher(vault, transit_key, token=service_token(vault, transit_key))
    )


@pytest.mark.usefixtures("transit_key")  # the transit mount exists
async def test_s4_binding_check_catches_a_key_that_ignores_the_context(
    vault: VaultServer, make_cipher: CipherFactory
) -> None:
    not_derived = _name("not-derived")
    vault.client().secrets.transit.create_key(not_derived, key_type="aes256-gcm96")
    with pytest.raises(OwnerBindingBroken, match="another owner"):
        await verify_owner_binding(make_cipher(vault, not_derived))
