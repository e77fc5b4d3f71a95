"""The unit of work the use cases open: a store's unit of work that also records what happened.

It remembers every aggregate its repositories hand out or take in, and at commit collects their
new events (cosmicpython's ``collect_new_events``), writes them as audit rows and notifications in
the same transaction (``EventRecords``), and once the transaction is durable counts them. A unit of
work that rolls back records and counts nothing, and its aggregates' events are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from application.event_records import ANNOUNCED, AUDITED, Acting, EventRecords
from application.ports.audit import (
    AuditAction,
    AuditEvent,
    AuditPosition,
    AuditQuery,
    AuditTrail,
    RecordedAuditEvent,
    RequestContext,
)
from application.ports.idempotency import IdempotencyStore
from application.ports.notifications import Notification, Outbox, PendingNotification
from application.ports.operational_metrics import BusinessEvent
from application.ports.unit_of_work import (
    EnrollmentRepository,
    RecoveryCodeRepository,
    ThrottleRepository,
    UnitOfWork,
    UnitOfWorkFactory,
)
from application.ports.user_data import UserDataRepository
from domain.enrollment import Enrollment
from domain.events import DomainEvent
from domain.throttle import AttemptThrottle


class Aggregate(Protocol):
    def collect_events(self) -> list[DomainEvent]: ...


class RecordingUnitsOfWork:
    """Opens the store's units of work, each recording for whoever ``Acting`` names."""

    def __init__(self, inner: UnitOfWorkFactory, records: EventRecords) -> None:
        self._inner = inner
        self.records = records

    def __call__(self, acting: Acting | RequestContext | None = None) -> RecordingUnitOfWork:
        if isinstance(acting, RequestContext):
            acting = Acting(acting)
        return RecordingUnitOfWork(self._inner(), acting, self.records)


class RecordingUnitOfWork:
    """Implements UnitOfWork over the store's, recording the events of the aggregates it saw."""

    def __init__(self, inner: UnitOfWork, acting: Acting | None, records: EventRecords) -> None:
        self._inner = inner
        self._acting = acting
        self._records = records
        self._seen: list[Aggregate] = []
        self._recorded: list[DomainEvent] = []
        self._counted: list[BusinessEvent] = []
        self._audit = _CountedAuditTrail(inner, self._count)
        self._outbox = _CountedOutbox(inner, self._count)
        self._enrollments = _SeenEnrollments(inner, self._see)
        self._throttles = _SeenThrottles(inner, self._see)

    def record(self, event: DomainEvent) -> None:
        """Records ``event``, which no aggregate raised, with the others at commit."""
        self._recorded.append(event)

    @property
    def enrollments(self) -> EnrollmentRepository:
        return self._enrollments

    @property
    def audit(self) -> AuditTrail:
        return self._audit

    @property
    def throttles(self) -> ThrottleRepository:
        return self._throttles

    @property
    def recovery_codes(self) -> RecoveryCodeRepository:
        return self._inner.recovery_codes

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    @property
    def idempotency(self) -> IdempotencyStore:
        return self._inner.idempotency

    @property
    def users(self) -> UserDataRepository:
        return self._inner.users

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._new_events()  # what was not committed did not happen
        self._counted.clear()
        await self._inner.__aexit__(exc_type, exc, traceback)
        self._records.refused(exc)

    async def commit(self) -> None:
        events = self._new_events()
        if events:
            if self._acting is None:
                raise RuntimeError("a unit of work that records events is opened with Acting")
            records = self._records.of(events, self._acting)
            for audit in records.audit:
                await self._audit.append(audit)
            for notification in records.notifications:
                await self._outbox.add(notification)
        await self._inner.commit()
        counted, self._counted = self._counted, []
        self._records.occurred(counted)

    def _new_events(self) -> list[DomainEvent]:
        events = [event for aggregate in self._seen for event in aggregate.collect_events()]
        events += self._recorded
        self._recorded.clear()
        return events

    def _see(self, aggregate: Aggregate) -> None:
        if not any(seen is aggregate for seen in self._seen):
            self._seen.append(aggregate)

    def _count(self, counted: BusinessEvent | None) -> None:
        if counted is not None:
            self._counted.append(counted)


class _SeenEnrollments:
    def __init__(self, inner: UnitOfWork, see: Callable[[Aggregate], None]) -> None:
        self._inner = inner
        self._see = see

    def _seen(self, enrollment: Enrollment) -> Enrollment:
        self._see(enrollment)
        return enrollment

    async def lock_user(self, user_id: str) -> None:
        await self._inner.enrollments.lock_user(user_id)

    async def get(self, enrollment_id: UUID) -> Enrollment | None:
        found = await self._inner.enrollments.get(enrollment_id)
        return None if found is None else self._seen(found)

    async def pending_for_user(self, user_id: str) -> Enrollment | None:
        found = await self._inner.enrollments.pending_for_user(user_id)
        return None if found is None else self._seen(found)

    async def active_for_user(self, user_id: str) -> list[Enrollment]:
        return [self._seen(e) for e in await self._inner.enrollments.active_for_user(user_id)]

    async def current_for_user(self, user_id: str) -> list[Enrollment]:
        return [self._seen(e) for e in await self._inner.enrollments.current_for_user(user_id)]

    async def record_use(self, enrollment: Enrollment) -> None:
        self._see(enrollment)
        await self._inner.enrollments.record_use(enrollment)

    async def remove_expired_pending(self, now: datetime) -> int:
        return await self._inner.enrollments.remove_expired_pending(now)

    async def add(self, enrollment: Enrollment) -> None:
        self._see(enrollment)
        await self._inner.enrollments.add(enrollment)

    async def update(self, enrollment: Enrollment) -> None:
        self._see(enrollment)
        await self._inner.enrollments.update(enrollment)

    async def count(self) -> int:
        return await self._inner.enrollments.count()

    async def page(self, after: UUID | None, limit: int) -> list[Enrollment]:
        return await self._inner.enrollments.page(after, limit)

    async def remove(self, enrollment: Enrollment) -> None:
        self._see(enrollment)
        await self._inner.enrollments.remove(enrollment)


class _SeenThrottles:
    def __init__(self, inner: UnitOfWork, see: Callable[[Aggregate], None]) -> None:
        self._inner = inner
        self._see = see

    async def lock(self, user_id: str, *, wait: bool = True) -> AttemptThrottle:
        throttle = await self._inner.throttles.lock(user_id, wait=wait)
        self._see(throttle)
        return throttle

    async def save(self, throttle: AttemptThrottle) -> None:
        self._see(throttle)
        await self._inner.throttles.save(throttle)


class _CountedAuditTrail:
    def __init__(self, inner: UnitOfWork, count: Callable[[BusinessEvent | None], None]) -> None:
        self._inner = inner
        self._count = count

    async def append(self, event: AuditEvent) -> None:
        await self._inner.audit.append(event)
        self._count(AUDITED.get(event.action))

    async def count_since(self, user_id: str, action: AuditAction, since: datetime) -> int:
        return await self._inner.audit.count_since(user_id, action, since)

    async def page(
        self, query: AuditQuery, after: AuditPosition | None, limit: int
    ) -> list[RecordedAuditEvent]:
        return await self._inner.audit.page(query, after, limit)


class _CountedOutbox:
    def __init__(self, inner: UnitOfWork, count: Callable[[BusinessEvent | None], None]) -> None:
        self._inner = inner
        self._count = count

    async def add(self, notification: Notification) -> None:
        await self._inner.outbox.add(notification)
        self._count(ANNOUNCED.get(notification.kind))

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[PendingNotification]:
        return await self._inner.outbox.claim(now, lease_until, limit)

    async def delivered(self, notification_id: int, now: datetime) -> None:
        await self._inner.outbox.delivered(notification_id, now)
        self._count(BusinessEvent.NOTIFICATION_DELIVERED)

    async def retry_later(self, notification_id: int, due: datetime) -> None:
        await self._inner.outbox.retry_later(notification_id, due)
        self._count(BusinessEvent.NOTIFICATION_DELIVERY_FAILED)

    async def backlog(self) -> int:
        return await self._inner.outbox.backlog()
