"""One suite for every SecretCipher adapter (SECURITY.md S4)."""

import base64
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.local_cipher.cipher import LocalAesGcmCipher
from adapters.vault.client import VaultClient
from adapters.vault.settings import TokenAuth, VaultSettings
from adapters.vault.setup import ensure_transit_key
from adapters.vault.transit_cipher import VaultTransitCipher
from application.errors import SecretUnreadable
from application.ports.secret_cipher import SecretCipher, SecretOwner
from domain.secret import TotpSecret
from tests.conftest import SharedVault


class CipherUnderTest:
    """A cipher and a way to rotate its key, as an operator would."""

    def __init__(self, kind: str, shared_vault: SharedVault | None) -> None:
        self._kind = kind
        self._keys = {1: os.urandom(32)}
        self._vault = shared_vault
        self._key_name = f"contract-{uuid.uuid4().hex[:12]}"
        self._clients: list[VaultClient] = []
        if shared_vault is not None:
            ensure_transit_key(shared_vault.server.client(), key=self._key_name)

    def cipher(self) -> SecretCipher:
        if self._vault is None:
            return LocalAesGcmCipher(self._keys)
        client = VaultClient(
            VaultSettings(self._vault.server.addr, TokenAuth(self._vault.server.root_token))
        )
        self._clients.append(client)
        return VaultTransitCipher(client, key=self._key_name)

    def rotate(self) -> SecretCipher:
        if self._vault is None:
            self._keys[max(self._keys) + 1] = os.urandom(32)
        else:
            self._vault.server.client().secrets.transit.rotate_key(name=self._key_name)
        return self.cipher()

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()


@pytest.fixture(params=["local", "vault"])
async def under_test(request: pytest.FixtureRequest) -> AsyncIterator[CipherUnderTest]:
    vault = request.getfixturevalue("shared_vault") if request.param == "vault" else None
    subject = CipherUnderTest(request.param, vault)
    yield subject
    await subject.close()


@pytest.fixture
def cipher(under_test: CipherUnderTest) -> SecretCipher:
    return under_test.cipher()


def _owner(user: str = "alice") -> SecretOwner:
    return SecretOwner(user, uuid.uuid4())


SECRET = TotpSecret.from_entropy(os.urandom(20))


async def test_round_trip_gives_back_the_secret(cipher: SecretCipher) -> None:
    owner = _owner()
    assert await cipher.decrypt(await cipher.encrypt(SECRET, owner), owner) == SECRET


async def test_ciphertext_moved_to_another_user_fails(cipher: SecretCipher) -> None:
    owner = _owner("alice")
    sealed = await cipher.encrypt(SECRET, owner)
    with pytest.raises(SecretUnreadable):
        await cipher.decrypt(sealed, SecretOwner("mallory", owner.enrollment_id))


async def test_ciphertext_moved_to_another_enrollment_fails(cipher: SecretCipher) -> None:
    owner = _owner()
    sealed = await cipher.encrypt(SECRET, owner)
    with pytest.raises(SecretUnreadable):
        await cipher.decrypt(sealed, SecretOwner(owner.user_id, uuid.uuid4()))


async def test_user_ids_cannot_be_shifted_into_the_enrollment_part(cipher: SecretCipher) -> None:
    enrollment = uuid.uuid4()
    sealed = await cipher.encrypt(SECRET, SecretOwner("ab", enrollment))
    with pytest.raises(SecretUnreadable):
        await cipher.decrypt(sealed, SecretOwner("a", enrollment))


async def test_one_flipped_byte_fails(cipher: SecretCipher) -> None:
    owner = _owner()
    sealed = await cipher.encrypt(SECRET, owner)
    prefix, _, payload = sealed.rpartition(":")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for position in (0, len(raw) // 2, len(raw) - 1):
        tampered = bytearray(raw)
        tampered[position] ^= 0x01
        forged = f"{prefix}:{base64.urlsafe_b64encode(bytes(tampered)).decode()}"
        with pytest.raises(SecretUnreadable):
            await cipher.decrypt(forged, owner)


async def test_garbage_ciphertext_fails_cleanly(cipher: SecretCipher) -> None:
    for garbage in ("", "local:v1:", "local:v1:!!!", "vault:v1:abc", "vault:v1:", "x" * 100):
        with pytest.raises(SecretUnreadable):
            await cipher.decrypt(garbage, _owner())


async def test_ciphertext_contains_neither_the_secret_nor_its_base32(cipher: SecretCipher) -> None:
    sealed = await cipher.encrypt(SECRET, _owner())
    assert SECRET.base32 not in sealed
    assert SECRET.base32.lower() not in sealed.lower()
    assert SECRET.key.hex() not in sealed
    assert base64.b64encode(SECRET.key).decode() not in sealed


async def test_same_secret_twice_gives_different_ciphertexts(cipher: SecretCipher) -> None:
    owner = _owner()
    assert await cipher.encrypt(SECRET, owner) != await cipher.encrypt(SECRET, owner)


async def test_old_ciphertexts_still_decrypt_after_rotation_and_rewrap_moves_them(
    under_test: CipherUnderTest,
) -> None:  # S4
    before = under_test.cipher()
    owners = [_owner(f"user{i}") for i in range(3)]
    sealed = [await before.encrypt(SECRET, owner) for owner in owners]
    assert {before.key_version(c) for c in sealed} == {1}

    after = under_test.rotate()
    assert await after.newest_key_version() == 2
    for ciphertext, owner in zip(sealed, owners, strict=True):
        assert await after.decrypt(ciphertext, owner) == SECRET
    rewrapped = await after.rewrap(list(zip(sealed, owners, strict=True)))
    assert [after.key_version(c) for c in rewrapped] == [2, 2, 2]
    for ciphertext, owner in zip(rewrapped, owners, strict=True):
        assert await after.decrypt(ciphertext, owner) == SECRET


async def test_rewrap_refuses_a_ciphertext_of_another_owner(cipher: SecretCipher) -> None:
    sealed = await cipher.encrypt(SECRET, _owner("alice"))
    with pytest.raises(SecretUnreadable):
        await cipher.rewrap([(sealed, _owner("mallory"))])
