"""RewrapSecrets: move every stored ciphertext to the cipher's newest key version (key rotation)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from application.errors import ConcurrentUpdate, SecretUnreadable
from application.ports.secret_cipher import SecretCipher, SecretOwner
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.enrollment import Enrollment


@dataclass(slots=True)
class RewrapSummary:
    """What a run did. ``unreadable`` lists ciphertexts that failed to decrypt and were left as they
    were; ``changed_meanwhile`` those changed by a request during the run (a rerun takes them)."""

    newest_version: int
    examined: int = 0
    rewrapped: int = 0
    already_current: int = 0
    unreadable: list[UUID] = field(default_factory=list)
    changed_meanwhile: list[UUID] = field(default_factory=list)


class RewrapSecrets:
    """Rewraps ciphertexts older than the newest key version, in batches of ``batch_size``.

    Each batch is its own transaction, so an interrupted run keeps what it did, and a rerun skips
    what is already current: the job is resumable and idempotent. Rows change only if nobody changed
    them since they were read. Only after every ciphertext is current may an operator raise the
    key's minimum decryption version (SECURITY.md S4).

    Raises:
        DependencyUnavailable: the key service or the store is down; batches done so far stay done.
    """

    def __init__(
        self, *, unit_of_work: UnitOfWorkFactory, cipher: SecretCipher, batch_size: int = 100
    ) -> None:
        self._unit_of_work = unit_of_work
        self._cipher = cipher
        self._batch_size = batch_size

    async def __call__(
        self, on_batch: Callable[[RewrapSummary], None] | None = None
    ) -> RewrapSummary:
        summary = RewrapSummary(newest_version=await self._cipher.newest_key_version())
        cursor: UUID | None = None
        while True:
            async with self._unit_of_work() as uow:
                batch = await uow.enrollments.page(after=cursor, limit=self._batch_size)
            if not batch:
                return summary
            cursor = batch[-1].id
            summary.examined += len(batch)
            stale = [e for e in batch if self._is_stale(e, summary)]
            summary.already_current += len(batch) - len(stale)
            await self._rewrap(stale, summary)
            if on_batch is not None:
                on_batch(summary)

    def _is_stale(self, enrollment: Enrollment, summary: RewrapSummary) -> bool:
        try:
            return self._cipher.key_version(enrollment.sealed_secret) < summary.newest_version
        except SecretUnreadable:
            summary.unreadable.append(enrollment.id)
            return False

    async def _rewrap(self, stale: list[Enrollment], summary: RewrapSummary) -> None:
        if not stale:
            return
        try:
            resealed = await self._cipher.rewrap([(e.sealed_secret, _owner(e)) for e in stale])
        except SecretUnreadable:
            for enrollment in stale:  # find the culprits one by one; the others still move
                await self._rewrap_one(enrollment, summary)
            return
        try:
            async with self._unit_of_work() as uow:
                for enrollment, sealed in zip(stale, resealed, strict=True):
                    enrollment.reseal(sealed)
                    await uow.enrollments.update(enrollment)
                await uow.commit()
            summary.rewrapped += len(stale)
        except ConcurrentUpdate:
            for enrollment in stale:
                await self._rewrap_one(enrollment, summary)

    async def _rewrap_one(self, enrollment: Enrollment, summary: RewrapSummary) -> None:
        async with self._unit_of_work() as uow:
            current = await uow.enrollments.get(enrollment.id)
            if current is None:
                return
            try:
                [sealed] = await self._cipher.rewrap([(current.sealed_secret, _owner(current))])
            except SecretUnreadable:
                summary.unreadable.append(current.id)
                return
            current.reseal(sealed)
            try:
                await uow.enrollments.update(current)
                await uow.commit()
            except ConcurrentUpdate:
                summary.changed_meanwhile.append(current.id)
                return
        summary.rewrapped += 1


def _owner(enrollment: Enrollment) -> SecretOwner:
    return SecretOwner(enrollment.user_id, enrollment.id)
