"""An in-process store with the same invariants as the database, for unit tests and fakes.

Each unit of work stages its changes and applies them all at commit, after checking the same
conditions the database checks (versions, one pending enrollment per user, unused steps and codes).
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Self, TypeVar
from uuid import UUID

from adapters.memory.audit_query import newest_first
from adapters.memory.row_locks import RowLocks
from adapters.memory.user_data import MemoryUserDataRepository, apply_erasure
from application.errors import ConcurrentUpdate, ThrottleBusy
from application.ports.audit import (
    AuditAction,
    AuditEvent,
    AuditPosition,
    AuditQuery,
    RecordedAuditEvent,
)
from application.ports.idempotency import IdempotencyRecord, StoredOutcome
from application.ports.notifications import Notification, PendingNotification
from domain.enrollment import Enrollment, EnrollmentStatus
from domain.throttle import AttemptThrottle

A = TypeVar("A", Enrollment, AttemptThrottle)


def _detached(aggregate: A) -> A:
    """A copy that shares nothing with ``aggregate``, not even its list of new events: what the
    store holds and what a unit of work hands out change apart, as rows and loaded objects do."""
    return dataclasses.replace(aggregate)


@dataclass
class StoredRecoveryCode:
    code_hash: str
    generated_at: datetime
    used_at: datetime | None = None


@dataclass
class StoredNotification:
    id: int
    notification: Notification
    due_at: datetime
    attempts: int = 0
    delivered_at: datetime | None = None


@dataclass
class MemoryStore:
    """The committed state. Shared by every unit of work made from one factory."""

    enrollments: dict[UUID, Enrollment] = field(default_factory=dict)
    audit_events: list[AuditEvent] = field(default_factory=list)
    throttles: dict[str, AttemptThrottle] = field(default_factory=dict)
    recovery_codes: dict[str, list[StoredRecoveryCode]] = field(default_factory=dict)
    outbox: list[StoredNotification] = field(default_factory=list)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    user_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    """Each user's enrollment lock (``lock_user``)."""
    row_locks: RowLocks = field(default_factory=RowLocks)
    """The throttle and idempotency rows open units of work hold, as the database's row locks."""


@dataclass
class _Staged:
    held_locks: list[asyncio.Lock] = field(default_factory=list)
    added: list[Enrollment] = field(default_factory=list)
    updated: list[tuple[int, Enrollment]] = field(default_factory=list)
    used: list[tuple[int | None, Enrollment]] = field(default_factory=list)
    removed: list[Enrollment] = field(default_factory=list)
    expired_before: datetime | None = None
    throttles: list[tuple[int, AttemptThrottle]] = field(default_factory=list)
    recovery_sets: dict[str, list[StoredRecoveryCode]] = field(default_factory=dict)
    recovery_uses: list[tuple[str, str, datetime]] = field(default_factory=list)
    audit: list[AuditEvent] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    outbox_changes: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    idempotency: dict[tuple[str, str], IdempotencyRecord | None] = field(default_factory=dict)
    discarded_codes: list[str] = field(default_factory=list)
    erasures: list[tuple[str, str]] = field(default_factory=list)


class MemoryEnrollmentRepository:
    def __init__(self, store: MemoryStore, staged: _Staged) -> None:
        self._store = store
        self._staged = staged

    async def lock_user(self, user_id: str) -> None:
        lock = self._store.user_locks.setdefault(user_id, asyncio.Lock())
        await lock.acquire()
        self._staged.held_locks.append(lock)

    async def get(self, enrollment_id: UUID) -> Enrollment | None:
        found = self._store.enrollments.get(enrollment_id)
        return _detached(found) if found is not None else None

    async def pending_for_user(self, user_id: str) -> Enrollment | None:
        return next(iter(self._of(user_id, EnrollmentStatus.PENDING)), None)

    async def active_for_user(self, user_id: str) -> list[Enrollment]:
        return sorted(self._of(user_id, EnrollmentStatus.ACTIVE), key=lambda e: e.created_at)

    async def current_for_user(self, user_id: str) -> list[Enrollment]:
        current = [
            _detached(e)
            for e in self._store.enrollments.values()
            if e.user_id == user_id and e.status is not EnrollmentStatus.REVOKED
        ]
        return sorted(current, key=lambda e: e.created_at)

    def _of(self, user_id: str, status: EnrollmentStatus) -> list[Enrollment]:
        return [
            _detached(e)
            for e in self._store.enrollments.values()
            if e.user_id == user_id and e.status is status
        ]

    async def add(self, enrollment: Enrollment) -> None:
        self._staged.added.append(_detached(enrollment))

    async def update(self, enrollment: Enrollment) -> None:
        self._staged.updated.append((enrollment.version, _detached(enrollment)))
        enrollment.version += 1

    async def record_use(self, enrollment: Enrollment) -> None:
        stored = self._store.enrollments.get(enrollment.id)
        previous = stored.last_used_step if stored is not None else None
        self._staged.used.append((previous, _detached(enrollment)))
        enrollment.version += 1

    async def count(self) -> int:
        return len(self._store.enrollments)

    async def page(self, after: UUID | None, limit: int) -> list[Enrollment]:
        ordered = sorted(self._store.enrollments.values(), key=lambda e: e.id)
        return [_detached(e) for e in ordered if after is None or e.id > after][:limit]

    async def remove(self, enrollment: Enrollment) -> None:
        self._staged.removed.append(enrollment)

    async def remove_expired_pending(self, now: datetime) -> int:
        self._staged.expired_before = now
        return sum(1 for e in self._store.enrollments.values() if e.is_expired(now))


class MemoryThrottleRepository:
    def __init__(self, store: MemoryStore, staged: _Staged, holder: object) -> None:
        self._store = store
        self._staged = staged
        self._holder = holder

    async def lock(self, user_id: str, *, wait: bool = True) -> AttemptThrottle:
        if not await self._store.row_locks.take(("throttle", user_id), self._holder, wait=wait):
            raise ThrottleBusy("another check of this user is in flight")
        found = self._store.throttles.get(user_id)
        return _detached(found) if found is not None else AttemptThrottle(user_id=user_id)

    async def save(self, throttle: AttemptThrottle) -> None:
        self._staged.throttles.append((throttle.version, _detached(throttle)))
        throttle.version += 1


class MemoryRecoveryCodeRepository:
    def __init__(self, store: MemoryStore, staged: _Staged) -> None:
        self._store = store
        self._staged = staged

    async def replace(self, user_id: str, code_hashes: list[str], generated_at: datetime) -> None:
        self._staged.recovery_sets[user_id] = [
            StoredRecoveryCode(code_hash, generated_at) for code_hash in code_hashes
        ]

    async def consume(self, user_id: str, code_hash: str, now: datetime) -> bool:
        unused = any(
            c.code_hash == code_hash and c.used_at is None
            for c in self._store.recovery_codes.get(user_id, [])
        )
        if unused:
            self._staged.recovery_uses.append((user_id, code_hash, now))
        return unused

    async def remaining(self, user_id: str) -> tuple[int, datetime | None]:
        codes = self._staged.recovery_sets.get(user_id) or self._store.recovery_codes.get(user_id)
        if not codes:
            return 0, None
        used = {h for u, h, _ in self._staged.recovery_uses if u == user_id}
        left = sum(1 for c in codes if c.used_at is None and c.code_hash not in used)
        return left, codes[0].generated_at

    async def discard(self, user_id: str) -> int:
        self._staged.discarded_codes.append(user_id)
        return sum(1 for c in self._store.recovery_codes.get(user_id, []) if c.used_at is None)


class MemoryOutbox:
    def __init__(self, store: MemoryStore, staged: _Staged) -> None:
        self._store = store
        self._staged = staged

    async def add(self, notification: Notification) -> None:
        self._staged.notifications.append(notification)

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[PendingNotification]:
        due = [n for n in self._store.outbox if n.delivered_at is None and n.due_at <= now]
        claimed = sorted(due, key=lambda n: n.due_at)[:limit]
        for stored in claimed:
            self._staged.outbox_changes.append((stored.id, {"due_at": lease_until}))
        return [PendingNotification(n.id, n.notification, n.attempts) for n in claimed]

    async def delivered(self, notification_id: int, now: datetime) -> None:
        self._staged.outbox_changes.append((notification_id, {"delivered_at": now}))

    async def retry_later(self, notification_id: int, due: datetime) -> None:
        stored = next(n for n in self._store.outbox if n.id == notification_id)
        self._staged.outbox_changes.append(
            (notification_id, {"due_at": due, "attempts": stored.attempts + 1})
        )

    async def backlog(self) -> int:
        return sum(1 for n in self._store.outbox if n.delivered_at is None)


class MemoryIdempotencyStore:
    def __init__(self, store: MemoryStore, staged: _Staged, holder: object) -> None:
        self._store = store
        self._staged = staged
        self._holder = holder

    async def reserve(
        self, user_id: str, key: str, fingerprint: str, now: datetime, lease_until: datetime
    ) -> IdempotencyRecord | None:
        await self._store.row_locks.take(("idempotency", user_id, key), self._holder)
        existing = self._store.idempotency.get((user_id, key))
        if existing is not None and existing.expires_at > now:
            return existing
        self._staged.idempotency[(user_id, key)] = IdempotencyRecord(fingerprint, None, lease_until)
        return None

    async def complete(
        self, user_id: str, key: str, outcome: StoredOutcome, expires_at: datetime
    ) -> None:
        record = self._store.idempotency[(user_id, key)]
        self._staged.idempotency[(user_id, key)] = IdempotencyRecord(
            record.fingerprint, outcome, expires_at
        )

    async def release(self, user_id: str, key: str) -> None:
        record = self._store.idempotency.get((user_id, key))
        if record is not None and record.outcome is None:
            self._staged.idempotency[(user_id, key)] = None

    async def remove_expired(self, now: datetime) -> int:
        expired = [k for k, r in self._store.idempotency.items() if r.expires_at <= now]
        for user_and_key in expired:
            self._staged.idempotency[user_and_key] = None
        return len(expired)


class MemoryAuditTrail:
    def __init__(self, store: MemoryStore, staged: _Staged) -> None:
        self._store = store
        self._staged = staged

    async def count_since(self, user_id: str, action: AuditAction, since: datetime) -> int:
        return sum(
            1
            for e in self._store.audit_events
            if e.user_id == user_id and e.action is action and e.occurred_at >= since
        )

    async def append(self, event: AuditEvent) -> None:
        self._staged.audit.append(event)

    async def page(
        self, query: AuditQuery, after: AuditPosition | None, limit: int
    ) -> list[RecordedAuditEvent]:
        return newest_first(self._store.audit_events, query, after, limit)


class MemoryUnitOfWork:
    """A transaction over :class:`MemoryStore`: all staged changes apply at commit, or none."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._begin()

    def _begin(self) -> None:
        self._store.row_locks.release_all(self)
        for lock in getattr(self, "_staged", _Staged()).held_locks:
            lock.release()
        self._staged = _Staged()
        self.enrollments = MemoryEnrollmentRepository(self._store, self._staged)
        self.throttles = MemoryThrottleRepository(self._store, self._staged, self)
        self.recovery_codes = MemoryRecoveryCodeRepository(self._store, self._staged)
        self.audit = MemoryAuditTrail(self._store, self._staged)
        self.outbox = MemoryOutbox(self._store, self._staged)
        self.idempotency = MemoryIdempotencyStore(self._store, self._staged, self)
        self.users = MemoryUserDataRepository(self._store, self._staged)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._begin()

    async def commit(self) -> None:
        staged, store = self._staged, self._store
        enrollments = _apply_enrollments(staged, dict(store.enrollments))
        throttles = dict(store.throttles)
        for read_version, throttle in staged.throttles:
            current = throttles.get(throttle.user_id)
            if (current.version if current else 0) != read_version:
                raise ConcurrentUpdate("the throttle was changed meanwhile")
            throttle.version = read_version + 1
            throttles[throttle.user_id] = throttle
        recovery = {
            user: [copy.copy(c) for c in codes] for user, codes in store.recovery_codes.items()
        }
        for user_id in staged.discarded_codes:
            recovery.pop(user_id, None)
        recovery.update(staged.recovery_sets)
        for user_id, code_hash, now in staged.recovery_uses:
            code = next(c for c in recovery[user_id] if c.code_hash == code_hash)
            if code.used_at is not None:
                raise ConcurrentUpdate("the recovery code was used meanwhile")
            code.used_at = now
        store.enrollments, store.throttles, store.recovery_codes = enrollments, throttles, recovery
        store.audit_events.extend(staged.audit)
        for notification in staged.notifications:
            next_id = max((n.id for n in store.outbox), default=0) + 1
            store.outbox.append(StoredNotification(next_id, notification, notification.occurred_at))
        for user_and_key, record in staged.idempotency.items():
            if record is None:
                store.idempotency.pop(user_and_key, None)
            else:
                store.idempotency[user_and_key] = record
        for notification_id, changes in staged.outbox_changes:
            stored = next(n for n in store.outbox if n.id == notification_id)
            for name, value in changes.items():
                setattr(stored, name, value)
        for user_id, pseudonym in staged.erasures:
            apply_erasure(store, user_id, pseudonym)
        self._begin()


def _apply_enrollments(staged: _Staged, after: dict[UUID, Enrollment]) -> dict[UUID, Enrollment]:
    for read_version, enrollment in staged.updated:
        current = after.get(enrollment.id)
        if current is None or current.version != read_version:
            raise ConcurrentUpdate("the enrollment was changed or removed meanwhile")
        enrollment.version = read_version + 1
        after[enrollment.id] = enrollment
    for previous_step, enrollment in staged.used:
        current = after.get(enrollment.id)
        if (
            current is None
            or current.status is not EnrollmentStatus.ACTIVE
            or current.last_used_step != previous_step
            or (previous_step is not None and enrollment.last_used_step is not None
                and enrollment.last_used_step <= previous_step)
        ):  # fmt: skip
            raise ConcurrentUpdate("the step was used meanwhile")
        used = _detached(current)
        used.last_used_step = enrollment.last_used_step
        used.last_used_at = enrollment.last_used_at
        used.drift_steps = enrollment.drift_steps
        used.version += 1
        after[enrollment.id] = used
    for enrollment in staged.removed:
        current = after.get(enrollment.id)
        if current is None or current.version != enrollment.version:
            raise ConcurrentUpdate("the enrollment was changed or removed meanwhile")
        del after[enrollment.id]
    if staged.expired_before is not None:
        now = staged.expired_before
        after = {key: e for key, e in after.items() if not e.is_expired(now)}
    for enrollment in staged.added:
        if enrollment.id in after:
            raise ConcurrentUpdate("an enrollment with this id exists")
        if enrollment.status is EnrollmentStatus.PENDING and any(
            other.user_id == enrollment.user_id and other.status is EnrollmentStatus.PENDING
            for other in after.values()
        ):
            raise ConcurrentUpdate("the user already has a pending enrollment")
        after[enrollment.id] = enrollment
    return after


class MemoryUnitOfWorkFactory:
    """Opens units of work over one shared :class:`MemoryStore`."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store if store is not None else MemoryStore()

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store)
