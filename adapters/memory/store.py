"""An in-process store with the same invariants as the database, for unit tests and fakes."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from uuid import UUID

from application.errors import ConcurrentUpdate
from application.ports.audit import AuditEvent
from domain.enrollment import Enrollment, EnrollmentStatus


@dataclass
class MemoryStore:
    """The committed state. Shared by every unit of work made from one factory."""

    enrollments: dict[UUID, Enrollment] = field(default_factory=dict)
    audit_events: list[AuditEvent] = field(default_factory=list)


class MemoryEnrollmentRepository:
    """Stages changes against a snapshot of the store; the unit of work applies them at commit."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.added: list[Enrollment] = []
        self.updated: list[tuple[int, Enrollment]] = []
        self.removed: list[Enrollment] = []

    async def get(self, enrollment_id: UUID) -> Enrollment | None:
        found = self._store.enrollments.get(enrollment_id)
        return copy.copy(found) if found is not None else None

    async def pending_for_user(self, user_id: str) -> Enrollment | None:
        for enrollment in self._store.enrollments.values():
            if enrollment.user_id == user_id and enrollment.status is EnrollmentStatus.PENDING:
                return copy.copy(enrollment)
        return None

    async def add(self, enrollment: Enrollment) -> None:
        self.added.append(copy.copy(enrollment))

    async def update(self, enrollment: Enrollment) -> None:
        self.updated.append((enrollment.version, copy.copy(enrollment)))
        enrollment.version += 1

    async def page(self, after: UUID | None, limit: int) -> list[Enrollment]:
        ordered = sorted(self._store.enrollments.values(), key=lambda e: e.id)
        return [copy.copy(e) for e in ordered if after is None or e.id > after][:limit]

    async def remove(self, enrollment: Enrollment) -> None:
        self.removed.append(enrollment)


class MemoryAuditTrail:
    def __init__(self) -> None:
        self.staged: list[AuditEvent] = []

    async def append(self, event: AuditEvent) -> None:
        self.staged.append(event)


class MemoryUnitOfWork:
    """A transaction over :class:`MemoryStore`: all staged changes apply at commit, or none."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.enrollments = MemoryEnrollmentRepository(store)
        self.audit = MemoryAuditTrail()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.enrollments = MemoryEnrollmentRepository(self._store)
        self.audit = MemoryAuditTrail()

    async def commit(self) -> None:
        after = dict(self._store.enrollments)
        for read_version, enrollment in self.enrollments.updated:
            current = after.get(enrollment.id)
            if current is None or current.version != read_version:
                raise ConcurrentUpdate("the enrollment was changed or removed meanwhile")
            enrollment.version = read_version + 1
            after[enrollment.id] = enrollment
        for enrollment in self.enrollments.removed:
            current = after.get(enrollment.id)
            if current is None or current.version != enrollment.version:
                raise ConcurrentUpdate("the enrollment was changed or removed meanwhile")
            del after[enrollment.id]
        for enrollment in self.enrollments.added:
            if enrollment.id in after:
                raise ConcurrentUpdate("an enrollment with this id exists")
            if enrollment.status is EnrollmentStatus.PENDING and any(
                other.user_id == enrollment.user_id and other.status is EnrollmentStatus.PENDING
                for other in after.values()
            ):
                raise ConcurrentUpdate("the user already has a pending enrollment")
            after[enrollment.id] = enrollment
        self._store.enrollments = after
        self._store.audit_events.extend(self.audit.staged)
        self.enrollments = MemoryEnrollmentRepository(self._store)
        self.audit = MemoryAuditTrail()


class MemoryUnitOfWorkFactory:
    """Opens units of work over one shared :class:`MemoryStore`."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store if store is not None else MemoryStore()

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store)
