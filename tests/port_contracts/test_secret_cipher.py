"""One suite for every SecretCipher adapter (SECURITY.md S4)."""

import base64
import os
import uuid

import pytest

from adapters.local_cipher.cipher import LocalAesGcmCipher
from application.errors import SecretUnreadable
from application.ports.secret_cipher import SecretCipher, SecretOwner
from domain.secret import TotpSecret


@pytest.fixture(params=["local"])
def cipher(request: pytest.FixtureRequest) -> SecretCipher:
    return LocalAesGcmCipher({1: os.urandom(32)})


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
    for garbage in ("", "local:v1:", "local:v1:!!!", "vault:v1:abc", "x" * 100):
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
