import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.local_cipher.cipher import LocalAesGcmCipher
from adapters.memory.store import MemoryUnitOfWorkFactory
from application.ports.secret_cipher import SecretOwner
from application.use_cases.rewrap_secrets import RewrapSecrets
from domain.enrollment import Enrollment
from domain.mfa_method import MfaMethod
from domain.policy import TotpPolicy
from domain.secret import TotpSecret

NOW = datetime(2026, 11, 27, tzinfo=UTC)
OLD_KEY, NEW_KEY = os.urandom(32), os.urandom(32)


async def _seed(
    store: MemoryUnitOfWorkFactory, cipher: LocalAesGcmCipher, count: int
) -> dict[uuid.UUID, TotpSecret]:
    secrets: dict[uuid.UUID, TotpSecret] = {}
    async with store() as uow:
        for i in range(count):
            enrollment_id, secret = uuid.uuid4(), TotpSecret.from_entropy(os.urandom(20))
            sealed = await cipher.encrypt(secret, SecretOwner(f"user{i}", enrollment_id))
            await uow.enrollments.add(
                Enrollment.start(
                    enrollment_id=enrollment_id, user_id=f"user{i}", method=MfaMethod.TOTP,
                    policy=TotpPolicy(), sealed_secret=sealed, device_name=None, now=NOW,
                    pending_ttl=timedelta(minutes=10),
                )
            )  # fmt: skip
            secrets[enrollment_id] = secret
        await uow.commit()
    return secrets


async def test_rewrap_moves_every_ciphertext_to_the_newest_key_and_keeps_the_secrets() -> None:
    store = MemoryUnitOfWorkFactory()
    secrets = await _seed(store, LocalAesGcmCipher({1: OLD_KEY}), 25)
    rotated = LocalAesGcmCipher({1: OLD_KEY, 2: NEW_KEY})
    batches: list[int] = []

    summary = await RewrapSecrets(unit_of_work=store, cipher=rotated, batch_size=10)(
        lambda progress: batches.append(progress.examined)
    )

    assert (summary.examined, summary.rewrapped, summary.already_current) == (25, 25, 0)
    assert batches == [10, 20, 25]
    only_new = LocalAesGcmCipher({2: NEW_KEY})
    for enrollment in store.store.enrollments.values():
        assert enrollment.sealed_secret.startswith("local:v2:")
        owner = SecretOwner(enrollment.user_id, enrollment.id)
        assert await only_new.decrypt(enrollment.sealed_secret, owner) == secrets[enrollment.id]


async def test_second_run_finds_nothing_to_do() -> None:
    store = MemoryUnitOfWorkFactory()
    await _seed(store, LocalAesGcmCipher({1: OLD_KEY}), 5)
    rotated = LocalAesGcmCipher({1: OLD_KEY, 2: NEW_KEY})
    await RewrapSecrets(unit_of_work=store, cipher=rotated)()
    again = await RewrapSecrets(unit_of_work=store, cipher=rotated)()
    assert (again.rewrapped, again.already_current) == (0, 5)


async def test_interrupted_run_resumes_where_it_stopped() -> None:
    store = MemoryUnitOfWorkFactory()
    await _seed(store, LocalAesGcmCipher({1: OLD_KEY}), 12)
    rotated = LocalAesGcmCipher({1: OLD_KEY, 2: NEW_KEY})

    class Interrupted(Exception):
        pass

    def stop_after_first_batch(_: object) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        await RewrapSecrets(unit_of_work=store, cipher=rotated, batch_size=5)(
            stop_after_first_batch
        )
    resumed = await RewrapSecrets(unit_of_work=store, cipher=rotated, batch_size=5)()
    assert (resumed.rewrapped, resumed.already_current) == (7, 5)


async def test_unreadable_ciphertexts_are_reported_and_the_rest_still_move() -> None:
    store = MemoryUnitOfWorkFactory()
    await _seed(store, LocalAesGcmCipher({1: OLD_KEY}), 4)
    victim = next(iter(store.store.enrollments.values()))
    victim.sealed_secret = victim.sealed_secret[:-6] + "AAAAAA"
    summary = await RewrapSecrets(
        unit_of_work=store, cipher=LocalAesGcmCipher({1: OLD_KEY, 2: NEW_KEY})
    )()
    assert summary.unreadable == [victim.id]
    assert summary.rewrapped == 3
    assert victim.sealed_secret.startswith("local:v1:")
