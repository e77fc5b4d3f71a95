"""The service's token stays alive: a renewable token of short TTL is renewed before it expires, and
a token file is read again when a Vault agent writes a new token into it. Real OpenBao, real TTLs:
each test outlives a 10-second token."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

from adapters.vault.settings import AppRoleAuth, TokenAuth, TokenFileAuth
from adapters.vault.setup import service_policy
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret
from tests.integration.vault.helpers import CipherFactory
from tests.support.vault_server import VaultServer
from tests.support.waiting import CEILING_SECONDS

SECRET = TotpSecret.from_entropy(os.urandom(20))
TTL_SECONDS = 10


def _short_lived_token(server: VaultServer, key: str) -> str:
    """A renewable token with the service policy (and ``default``, which allows looking itself up
    and renewing itself), living 10 seconds unless renewed."""
    root = server.client()
    root.sys.create_or_update_policy(name=f"service-{key}", policy=service_policy(key=key))
    answer = root.auth.token.create(
        policies=[f"service-{key}"], ttl=f"{TTL_SECONDS}s", explicit_max_ttl="10m", renewable=True
    )
    token: str = answer["auth"]["client_token"]
    return token


def _remaining_ttl(server: VaultServer, token: str) -> int:
    ttl: int = server.client().auth.token.lookup(token)["data"]["ttl"]
    return ttl


def _write_atomically(path: Path, token: str) -> None:
    """As a Vault agent's file sink does: a new file renamed over the old one."""
    fresh = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fresh.write_text(token + "\n")
    fresh.replace(path)


async def test_a_renewable_token_of_short_ttl_is_renewed_and_outlives_its_ttl(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    token = _short_lived_token(vault, transit_key)
    cipher = make_cipher(vault, transit_key, auth=TokenAuth(token))
    owner = SecretOwner("alice", uuid.uuid4())
    sealed = await cipher.encrypt(SECRET, owner)
    issued = time.monotonic()

    # Calls spread over more than the TTL: each one works only if the token was renewed meanwhile.
    while time.monotonic() - issued < TTL_SECONDS * 1.5:
        async with asyncio.timeout(CEILING_SECONDS):
            assert await cipher.decrypt(sealed, owner) == SECRET
        await asyncio.sleep(0.5)

    assert _remaining_ttl(vault, token) > 0


async def test_a_token_file_is_read_again_when_an_agent_writes_a_new_token(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory, tmp_path: Path
) -> None:
    sink = tmp_path / "vault-token"
    first = _short_lived_token(vault, transit_key)
    _write_atomically(sink, first)
    cipher = make_cipher(vault, transit_key, auth=TokenFileAuth(sink))
    owner = SecretOwner("alice", uuid.uuid4())
    sealed = await cipher.encrypt(SECRET, owner)

    second = _short_lived_token(vault, transit_key)
    _write_atomically(sink, second)
    # No request meanwhile: only a client that read the new file and renews its token keeps it
    # alive past its TTL.
    await asyncio.sleep(TTL_SECONDS * 1.3)
    assert _remaining_ttl(vault, second) > 0

    vault.client().auth.token.revoke(first)
    assert await cipher.decrypt(sealed, owner) == SECRET


async def test_a_token_file_holding_a_revoked_token_is_read_again_at_the_refusal(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory, tmp_path: Path
) -> None:
    sink = tmp_path / "vault-token"
    first = _short_lived_token(vault, transit_key)
    _write_atomically(sink, first)
    cipher = make_cipher(vault, transit_key, auth=TokenFileAuth(sink))
    owner = SecretOwner("alice", uuid.uuid4())
    sealed = await cipher.encrypt(SECRET, owner)

    vault.client().auth.token.revoke(first)
    _write_atomically(sink, _short_lived_token(vault, transit_key))

    assert await cipher.decrypt(sealed, owner) == SECRET


async def test_an_approle_token_past_its_max_ttl_is_replaced_by_a_new_login(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    root = vault.client()
    mount = f"approle-{uuid.uuid4().hex[:8]}"
    root.sys.enable_auth_method("approle", path=mount)
    root.sys.create_or_update_policy(
        name=f"service-{transit_key}", policy=service_policy(key=transit_key)
    )
    root.auth.approle.create_or_update_approle(
        "mfa-service",
        token_policies=[f"service-{transit_key}"],
        token_ttl=f"{TTL_SECONDS}s",
        token_max_ttl=f"{TTL_SECONDS + 4}s",
        mount_point=mount,
    )
    role_id = root.auth.approle.read_role_id("mfa-service", mount_point=mount)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("mfa-service", mount_point=mount)["data"][
        "secret_id"
    ]
    cipher = make_cipher(
        vault, transit_key, auth=AppRoleAuth(role_id, secret_id, mount_point=mount)
    )
    owner = SecretOwner("alice", uuid.uuid4())
    sealed = await cipher.encrypt(SECRET, owner)
    started = time.monotonic()

    # Past the first token's max TTL: renewed, then replaced by a login; every call works.
    while time.monotonic() - started < TTL_SECONDS * 2:
        async with asyncio.timeout(CEILING_SECONDS):
            assert await cipher.decrypt(sealed, owner) == SECRET
        await asyncio.sleep(0.5)
