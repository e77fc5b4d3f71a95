"""VaultTransitCipher against a real OpenBao: binding to the owner, integrity, rotation (SECURITY.md S4)."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid

import pytest

from application.errors import SecretUnreadable
from application.ports.secret_cipher import SecretCipher, SecretOwner
from domain.secret import TotpSecret
from tests.integration.vault.helpers import CipherFactory, rotation_token, service_token
from tests.support.vault_server import VaultServer

SECRET = TotpSecret.from_entropy(os.urandom(20))


def _owner(user: str = "alice") -> SecretOwner:
    return SecretOwner(user, uuid.uuid4())


def _flip_byte(ciphertext: str, position: int) -> str:
    prefix, _, payload = ciphertext.rpartition(":")
    raw = bytearray(base64.b64decode(payload))
    raw[position % len(raw)] ^= 0x01
    return f"{prefix}:{base64.b64encode(bytes(raw)).decode()}"


async def test_s4_round_trip_gives_back_the_secret(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher: SecretCipher = make_cipher(vault, transit_key, token=service_token(vault, transit_key))
    owner = _owner()
    assert await cipher.decrypt(await cipher.encrypt(SECRET, owner), owner) == SECRET


async def test_s4_ciphertext_is_stored_as_vault_returns_it_with_version_1(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key)
    sealed = await cipher.encrypt(SECRET, _owner())
    assert sealed.startswith("vault:v1:")
    assert cipher.key_version(sealed) == 1


async def test_s4_ciphertext_copied_to_another_user_fails(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key)
    owner = _owner("alice")
    sealed = await cipher.encrypt(SECRET, owner)
    with pytest.raises(SecretUnreadable):
        await cipher.decrypt(sealed, SecretOwner("mallory", owner.enrollment_id))


async def test_s4_ciphertext_copied_to_another_enrollment_fails(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key)
    owner = _owner()
    sealed = await cipher.encrypt(SECRET, owner)
    with pytest.raises(SecretUnreadable):
        await cipher.decrypt(sealed, SecretOwner(owner.user_id, uuid.uuid4()))


async def test_s4_user_id_cannot_be_shifted_into_the_enrollment_part(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key)
    enrollment = uuid.uuid4()
    sealed = await cipher.encrypt(SECRET, SecretOwner("ab", enrollment))
    with pytest.raises(SecretUnreadable):
        await cipher.decrypt(sealed, SecretOwner("a", enrollment))


@pytest.mark.parametrize("position", [0, 11, 20, -1], ids=["nonce", "body", "body-end", "tag"])
async def test_s4_one_flipped_byte_fails(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory, position: int
) -> None:
    cipher = make_cipher(vault, transit_key)
    owner = _owner()
    sealed = await cipher.encrypt(SECRET, owner)
    with pytest.raises(SecretUnreadable):
        await cipher.decrypt(_flip_byte(sealed, position), owner)


@pytest.mark.parametrize(
    "garbage",
    ["", "vault:v1:", "vault:v1:!!!", "vault:v1:abc", "vault:v0:abcd", "local:v1:abcd", "x" * 100],
)
async def test_s4_garbage_ciphertext_fails_cleanly(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory, garbage: str
) -> None:
    cipher = make_cipher(vault, transit_key)
    with pytest.raises(SecretUnreadable):
        await cipher.decrypt(garbage, _owner())


async def test_s4_ciphertext_of_a_version_newer_than_the_key_fails(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key)
    owner = _owner()
    sealed = await cipher.encrypt(SECRET, owner)
    with pytest.raises(SecretUnreadable):
        await cipher.decrypt(sealed.replace("vault:v1:", "vault:v9:"), owner)


async def test_s4_ciphertext_contains_neither_the_secret_nor_its_encodings(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    sealed = await make_cipher(vault, transit_key).encrypt(SECRET, _owner())
    assert SECRET.base32 not in sealed.upper()
    assert SECRET.key.hex() not in sealed.lower()
    assert base64.b64encode(SECRET.key).decode() not in sealed
    assert base64.b64encode(SECRET.key).decode().rstrip("=") not in sealed
    assert SECRET.key not in base64.b64decode(sealed.rpartition(":")[2])


async def test_s4_same_secret_twice_gives_different_ciphertexts(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key)
    owner = _owner()
    assert await cipher.encrypt(SECRET, owner) != await cipher.encrypt(SECRET, owner)


async def test_s4_after_rotation_old_ciphertexts_still_decrypt_and_rewrap_moves_them(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key, batch_size=3)
    owners = [_owner(f"user-{n}") for n in range(7)]
    secrets = [TotpSecret.from_entropy(os.urandom(20)) for _ in owners]
    old = [await cipher.encrypt(s, o) for s, o in zip(secrets, owners, strict=True)]

    vault.client().secrets.transit.rotate_key(transit_key)

    assert await cipher.newest_key_version() == 2
    assert [await cipher.decrypt(c, o) for c, o in zip(old, owners, strict=True)] == secrets
    rewrapped = await cipher.rewrap(list(zip(old, owners, strict=True)))
    assert [cipher.key_version(c) for c in rewrapped] == [2] * len(owners)
    assert [await cipher.decrypt(c, o) for c, o in zip(rewrapped, owners, strict=True)] == secrets


async def test_s4_rewrap_with_the_rotation_job_token_never_needs_decrypt(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    owner = _owner()
    sealed = await make_cipher(vault, transit_key).encrypt(SECRET, owner)
    vault.client().secrets.transit.rotate_key(transit_key)
    job = make_cipher(vault, transit_key, token=rotation_token(vault, transit_key))

    assert await job.newest_key_version() == 2
    (rewrapped,) = await job.rewrap([(sealed, owner)])
    assert rewrapped.startswith("vault:v2:")


async def test_s4_retired_key_version_makes_old_ciphertexts_unreadable(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key)
    owner = _owner()
    sealed = await cipher.encrypt(SECRET, owner)
    transit = vault.client().secrets.transit
    transit.rotate_key(transit_key)
    transit.update_key_configuration(transit_key, min_decryption_version=2)

    with pytest.raises(SecretUnreadable):
        await cipher.decrypt(sealed, owner)
    with pytest.raises(SecretUnreadable):
        await cipher.rewrap([(sealed, owner)])


async def test_s4_rewrap_refuses_the_whole_batch_and_names_the_tampered_position(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key, batch_size=2)
    owners = [_owner() for _ in range(4)]
    sealed = [await cipher.encrypt(SECRET, o) for o in owners]
    sealed[3] = _flip_byte(sealed[3], 5)

    with pytest.raises(SecretUnreadable, match=r"positions 3$") as raised:
        await cipher.rewrap(list(zip(sealed, owners, strict=True)))
    assert sealed[3] not in str(raised.value)


async def test_s4_rewrap_refuses_a_ciphertext_moved_to_another_owner(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key)
    sealed = await cipher.encrypt(SECRET, _owner("alice"))
    with pytest.raises(SecretUnreadable):
        await cipher.rewrap([(sealed, _owner("mallory"))])


async def test_rewrap_of_nothing_calls_nobody(
    vault: VaultServer, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, "key-that-does-not-exist")
    assert await cipher.rewrap([]) == []


@pytest.mark.parametrize("text", ["", "vault:v:abc", "vault:vx:abc", "vault:v1", "local:v1:abc"])
def test_key_version_refuses_text_that_is_no_transit_ciphertext(
    vault: VaultServer, make_cipher: CipherFactory, text: str
) -> None:
    with pytest.raises(SecretUnreadable):
        make_cipher(vault, "mfa-totp").key_version(text)


def test_key_version_reads_the_prefix(vault: VaultServer, make_cipher: CipherFactory) -> None:
    assert make_cipher(vault, "mfa-totp").key_version("vault:v12:AAAA") == 12


async def test_many_concurrent_calls_share_a_small_worker_limit(
    vault: VaultServer, transit_key: str, make_cipher: CipherFactory
) -> None:
    cipher = make_cipher(vault, transit_key, max_concurrency=2)
    owners = [_owner(f"user-{n}") for n in range(40)]
    sealed = await asyncio.gather(*(cipher.encrypt(SECRET, o) for o in owners))
    opened = await asyncio.gather(
        *(cipher.decrypt(c, o) for c, o in zip(sealed, owners, strict=True))
    )
    assert opened == [SECRET] * len(owners)
