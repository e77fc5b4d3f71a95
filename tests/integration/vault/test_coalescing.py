"""Coalescing: concurrent encrypts (or decrypts) share one transit batch request, and each caller still
gets only its own result or error."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

import hvac
import pytest

from adapters.vault.client import TokenAuth
from adapters.vault.coalescer import Coalescer
from adapters.vault.gateway import VaultGateway
from adapters.vault.names import DEFAULT_KEY
from adapters.vault.transit_cipher import VaultTransitCipher
from application.errors import DependencyUnavailable, SecretUnreadable
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret
from tests.integration.vault.helpers import SessionFactory
from tests.support.vault_server import VaultServer

T = TypeVar("T")
WINDOW = 0.005


class CountingGateway(VaultGateway):
    """Counts the requests that reach Vault."""

    requests = 0

    async def call(
        self,
        operation: str,
        request: Callable[[hvac.Client], T],
        *,
        about_ciphertexts: bool = False,
    ) -> T:
        self.requests += 1
        return await super().call(operation, request, about_ciphertexts=about_ciphertexts)


def _cipher(
    server: VaultServer, key: str, make_session: SessionFactory, *, batch_size: int = 100
) -> tuple[VaultTransitCipher, CountingGateway]:
    gateway = CountingGateway(make_session(server.addr, TokenAuth(server.root_token)))
    cipher = VaultTransitCipher(gateway, key=key, batch_size=batch_size, coalesce_window=WINDOW)
    return cipher, gateway


def _owners(count: int) -> list[SecretOwner]:
    return [SecretOwner(f"user-{n}", uuid.uuid4()) for n in range(count)]


def _secrets(count: int) -> list[TotpSecret]:
    return [TotpSecret.from_entropy(os.urandom(20)) for _ in range(count)]


async def test_concurrent_calls_share_one_request_and_each_caller_gets_its_own_outcome(
    vault: VaultServer, transit_key: str, make_session: SessionFactory
) -> None:
    cipher, gateway = _cipher(vault, transit_key, make_session)
    owners, secrets = _owners(10), _secrets(10)

    sealed = await asyncio.gather(
        *(cipher.encrypt(s, o) for s, o in zip(secrets, owners, strict=True))
    )
    assert gateway.requests == 1

    readers = [*owners[:7], *(SecretOwner("mallory", o.enrollment_id) for o in owners[7:])]
    outcomes = await asyncio.gather(
        *(cipher.decrypt(c, r) for c, r in zip(sealed, readers, strict=True)),
        return_exceptions=True,
    )
    assert gateway.requests == 2
    assert outcomes[:7] == secrets[:7]
    assert all(isinstance(outcome, SecretUnreadable) for outcome in outcomes[7:])


async def test_a_coalesced_request_holds_at_most_batch_size_items(
    vault: VaultServer, transit_key: str, make_session: SessionFactory
) -> None:
    cipher, gateway = _cipher(vault, transit_key, make_session, batch_size=4)
    owners, secrets = _owners(10), _secrets(10)

    sealed = await asyncio.gather(
        *(cipher.encrypt(s, o) for s, o in zip(secrets, owners, strict=True))
    )

    assert gateway.requests == 3
    assert (
        await asyncio.gather(*(cipher.decrypt(c, o) for c, o in zip(sealed, owners, strict=True)))
        == secrets
    )


async def test_coalesced_callers_each_get_unavailable_from_a_sealed_vault(
    own_vault: VaultServer, make_session: SessionFactory
) -> None:
    cipher, _ = _cipher(own_vault, DEFAULT_KEY, make_session)
    secret = _secrets(1)[0]
    own_vault.seal()
    async with asyncio.timeout(10):
        outcomes = await asyncio.gather(
            *(cipher.encrypt(secret, o) for o in _owners(5)), return_exceptions=True
        )
    assert all(isinstance(outcome, DependencyUnavailable) for outcome in outcomes)
    assert len({id(outcome) for outcome in outcomes}) == len(outcomes)


async def test_a_cancelled_caller_leaves_the_others_of_its_batch_unaffected() -> None:
    release = asyncio.Event()

    async def send(items: Sequence[int]) -> list[int | Exception]:
        await release.wait()
        return [item * 10 for item in items]

    coalescer: Coalescer[int, int] = Coalescer(send, window=0.001)
    callers = [asyncio.create_task(coalescer.submit(n)) for n in range(3)]
    await asyncio.sleep(0.01)  # the batch is in flight
    callers[1].cancel()
    release.set()

    assert await callers[0] == 0
    assert await callers[2] == 20
    with pytest.raises(asyncio.CancelledError):
        await callers[1]


async def test_a_full_batch_leaves_without_waiting_for_the_window() -> None:
    batches: list[list[int]] = []

    async def send(items: Sequence[int]) -> list[int | Exception]:
        batches.append(list(items))
        return list(items)

    coalescer: Coalescer[int, int] = Coalescer(send, window=60, max_batch=2)
    async with asyncio.timeout(5):
        assert list(await asyncio.gather(coalescer.submit(1), coalescer.submit(2))) == [1, 2]
    assert batches == [[1, 2]]
