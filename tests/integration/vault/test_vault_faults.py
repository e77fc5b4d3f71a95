"""Vault failing in every way SECURITY.md lists: each is DependencyUnavailable, in bounded time, and the
cipher works again once Vault is back. Timing is not asserted; the bound is the configured deadline,
and ``asyncio.timeout`` turns a hang into a failure instead of a stuck run."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable

import pytest

from adapters.vault.names import DEFAULT_KEY
from adapters.vault.probe import VaultProbe
from adapters.vault.settings import TokenAuth
from application.errors import DependencyUnavailable, SecretUnreadable
from application.ports.readiness import ReadinessProbe
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret
from tests.integration.vault.helpers import (
    TEST_TIMEOUT_SECONDS,
    CipherFactory,
    ClientFactory,
    service_token,
)
from tests.support.delay_proxy import DelayProxy
from tests.support.vault_server import VaultServer

SECRET = TotpSecret.from_entropy(os.urandom(20))
HANG_GUARD_SECONDS = 10

ProxyFactory = Callable[[VaultServer], DelayProxy]


def _owner() -> SecretOwner:
    return SecretOwner("alice", uuid.uuid4())


async def test_sealed_vault_is_unavailable_and_unsealing_restores_service(
    own_vault: VaultServer, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(own_vault, DEFAULT_KEY, token=service_token(own_vault, DEFAULT_KEY))
    owner = _owner()
    sealed = await cipher.encrypt(SECRET, owner)

    own_vault.seal()
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        with pytest.raises(DependencyUnavailable) as raised:
            await cipher.decrypt(sealed, owner)
        with pytest.raises(DependencyUnavailable):
            await cipher.encrypt(SECRET, owner)
    assert raised.value.dependency == "vault"

    own_vault.unseal()
    assert await cipher.decrypt(sealed, owner) == SECRET


async def test_stopped_vault_is_unavailable(
    own_vault: VaultServer, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(own_vault, DEFAULT_KEY)
    own_vault.stop()
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        with pytest.raises(DependencyUnavailable):
            await cipher.encrypt(SECRET, _owner())


async def test_restarted_empty_vault_is_unavailable_until_provisioned_again(
    own_vault: VaultServer, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(own_vault, DEFAULT_KEY, token=service_token(own_vault, DEFAULT_KEY))
    owner = _owner()
    sealed = await cipher.encrypt(SECRET, owner)

    own_vault.restart()  # in memory: token, key and ciphertexts' key are gone; setup recreates the key

    with pytest.raises(DependencyUnavailable):  # the service token no longer exists
        await cipher.encrypt(SECRET, owner)
    fresh = make_cipher(own_vault, DEFAULT_KEY, token=service_token(own_vault, DEFAULT_KEY))
    assert await fresh.decrypt(await fresh.encrypt(SECRET, owner), owner) == SECRET
    with pytest.raises(SecretUnreadable):  # made with the key that died with the old server
        await fresh.decrypt(sealed, owner)


async def test_vault_slower_than_the_timeout_is_unavailable(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory, proxy_to: ProxyFactory
) -> None:
    proxy = proxy_to(vault)
    cipher = make_cipher(vault, transit_key, addr=proxy.addr, timeout=TEST_TIMEOUT_SECONDS)
    owner = _owner()
    sealed = await cipher.encrypt(SECRET, owner)  # opens a keep-alive connection before the delay

    proxy.delay = 5.0
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        with pytest.raises(DependencyUnavailable):
            await cipher.decrypt(sealed, owner)
        with pytest.raises(DependencyUnavailable):
            await cipher.encrypt(SECRET, owner)

    proxy.delay = 0.0
    assert await cipher.decrypt(sealed, owner) == SECRET


async def test_callers_waiting_for_a_worker_behind_a_slow_vault_also_get_an_answer(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory, proxy_to: ProxyFactory
) -> None:
    proxy = proxy_to(vault)
    cipher = make_cipher(vault, transit_key, addr=proxy.addr, max_concurrency=1)
    proxy.delay = 5.0
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        outcomes = await asyncio.gather(
            *(cipher.encrypt(SECRET, _owner()) for _ in range(5)), return_exceptions=True
        )
    assert all(isinstance(outcome, DependencyUnavailable) for outcome in outcomes)


async def test_vault_refusing_connections_is_unavailable(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory, proxy_to: ProxyFactory
) -> None:
    proxy = proxy_to(vault)
    cipher = make_cipher(vault, transit_key, addr=proxy.addr)
    owner = _owner()
    sealed = await cipher.encrypt(SECRET, owner)

    proxy.refuse = True
    proxy.drop_connections()
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        with pytest.raises(DependencyUnavailable):
            await cipher.decrypt(sealed, owner)

    proxy.refuse = False
    assert await cipher.decrypt(sealed, owner) == SECRET


async def test_revoked_token_is_unavailable_and_logged_without_the_token(
    vault: VaultServer,
    transit_key: str,
    make_cipher: CipherFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = service_token(vault, transit_key)
    cipher = make_cipher(vault, transit_key, token=token)
    owner = _owner()
    sealed = await cipher.encrypt(SECRET, owner)

    vault.client().auth.token.revoke(token)
    with caplog.at_level(logging.WARNING), pytest.raises(DependencyUnavailable) as raised:
        await cipher.decrypt(sealed, owner)

    assert "permission denied" in caplog.text
    for leak in (token, sealed, SECRET.base32):
        assert leak not in caplog.text
        assert leak not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


async def test_missing_key_is_an_outage_not_a_client_error(
    vault: VaultServer, make_cipher: CipherFactory
) -> None:
    missing = f"never-created-{uuid.uuid4().hex[:8]}"
    cipher = make_cipher(vault, missing, token=service_token(vault, missing))
    owner = _owner()
    with pytest.raises(DependencyUnavailable):
        await cipher.encrypt(SECRET, owner)
    with pytest.raises(DependencyUnavailable):
        await cipher.decrypt("vault:v1:" + "A" * 40, owner)


async def test_missing_key_is_an_outage_also_for_a_token_allowed_to_read_it(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key)
    owner = _owner()
    sealed = await cipher.encrypt(SECRET, owner)
    transit = vault.client().secrets.transit
    transit.update_key_configuration(transit_key, deletion_allowed=True)
    transit.delete_key(transit_key)

    with pytest.raises(DependencyUnavailable):
        await cipher.decrypt(sealed, owner)
    with pytest.raises(DependencyUnavailable):
        await cipher.rewrap([(sealed, owner)])
    with pytest.raises(DependencyUnavailable):
        await cipher.newest_key_version()


async def test_missing_transit_mount_is_an_outage(
    vault: VaultServer, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, DEFAULT_KEY, mount="not-mounted")
    with pytest.raises(DependencyUnavailable):
        await cipher.decrypt("vault:v1:" + "A" * 40, _owner())


async def test_probe_passes_on_an_unsealed_vault_and_fails_on_a_sealed_or_stopped_one(
    own_vault: VaultServer, make_client: ClientFactory
) -> None:
    probe: ReadinessProbe = VaultProbe(make_client(own_vault.addr, TokenAuth("not-needed")))
    assert probe.name == "vault"
    await probe.check()

    own_vault.seal()
    with pytest.raises(DependencyUnavailable):
        await probe.check()
    own_vault.unseal()
    await probe.check()

    own_vault.stop()
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        with pytest.raises(DependencyUnavailable):
            await probe.check()


async def test_probe_behind_a_slow_vault_is_unavailable(
    vault: VaultServer, proxy_to: ProxyFactory, make_client: ClientFactory
) -> None:
    proxy = proxy_to(vault)
    probe = VaultProbe(make_client(proxy.addr, TokenAuth("not-needed")))
    proxy.delay = 5.0
    async with asyncio.timeout(HANG_GUARD_SECONDS):
        with pytest.raises(DependencyUnavailable):
            await probe.check()
