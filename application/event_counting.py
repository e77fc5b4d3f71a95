"""Counts business events where the application already records them: the audit events and the
outbox changes of each unit of work, once it commits, and the refusals that end a check's unit of
work before anything is recorded (the attempt gate's ``load``).

Wrapping the unit of work keeps every use case as it is, and counts only what became durable: a
unit of work that rolls back counts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from datetime import datetime
from types import TracebackType
from typing import Final, Self

from application.errors import NoActiveAuthenticator
from application.ports.audit import (
    AuditAction,
    AuditEvent,
    AuditPosition,
    AuditQuery,
    AuditTrail,
    RecordedAuditEvent,
    RequestContext,
)
from application.ports.check_reservations import CheckReservations, CheckStart
from application.ports.code_acceptance import CodeAcceptance
from application.ports.idempotency import IdempotencyStore
from application.ports.notifications import (
    Notification,
    NotificationKind,
    Outbox,
    PendingNotification,
)
from application.ports.operational_metrics import BusinessEvent, OperationalMetrics
from application.ports.unit_of_work import (
    EnrollmentRepository,
    RecoveryCodeRepository,
    ThrottleRepository,
    UnitOfWork,
    UnitOfWorkFactory,
)
from application.ports.user_data import UserDataRepository
from domain.enrollment import Enrollment
from domain.errors import EnrollmentExpired

AUDITED: Final[Mapping[AuditAction, BusinessEvent]] = {
    AuditAction.ENROLLMENT_STARTED: BusinessEvent.ENROLLMENT_STARTED,
    AuditAction.ENROLLMENT_REPLACED: BusinessEvent.ENROLLMENT_REPLACED,
    AuditAction.ENROLLMENT_CONFIRMED: BusinessEvent.ENROLLMENT_CONFIRMED,
    AuditAction.ENROLLMENT_CANCELLED: BusinessEvent.ENROLLMENT_CANCELLED,
    AuditAction.CODE_VERIFIED: BusinessEvent.VERIFICATION_ACCEPTED,
    AuditAction.CODE_REJECTED: BusinessEvent.VERIFICATION_WRONG,
    AuditAction.CODE_REPLAYED: BusinessEvent.VERIFICATION_REPLAYED,
    AuditAction.CHECK_BLOCKED: BusinessEvent.VERIFICATION_LOCKED,
    AuditAction.RECOVERY_CODE_USED: BusinessEvent.VERIFICATION_RECOVERY_CODE,
    AuditAction.DEPENDENCY_FAILED: BusinessEvent.VERIFICATION_DEPENDENCY_FAILED,
    AuditAction.LOCKED_OUT: BusinessEvent.LOCKOUT_STARTED,
    AuditAction.AUTHENTICATOR_REVOKED: BusinessEvent.AUTHENTICATOR_REVOKED,
    AuditAction.ADMIN_REVOKED: BusinessEvent.AUTHENTICATOR_REVOKED,
    AuditAction.STEP_UP_REFUSED: BusinessEvent.STEP_UP_REFUSED,
}
"""Audit actions that are business events (a revocation by the helpdesk counts as one by the user).
Renames, the helpdesk's other actions and recovery-code sets issued at confirmation are recorded
but not counted (the regeneration is counted from its notification)."""

ANNOUNCED: Final[Mapping[NotificationKind, BusinessEvent]] = {
    NotificationKind.RECOVERY_CODES_REGENERATED: BusinessEvent.RECOVERY_CODES_REGENERATED,
}

REFUSED: Final[Mapping[type[Exception], BusinessEvent]] = {
    NoActiveAuthenticator: BusinessEvent.VERIFICATION_NO_AUTHENTICATOR,
    EnrollmentExpired: BusinessEvent.ENROLLMENT_EXPIRED,
}
"""Errors that end a unit of work with nothing recorded. Only a check's ``load`` (VerifyCode,
ConfirmEnrollment) raises these inside a unit of work; other use cases raise them after theirs."""


class CountingUnitOfWorkFactory:
    """Opens the wrapped factory's units of work, counting what each commits."""

    def __init__(self, inner: UnitOfWorkFactory, metrics: OperationalMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def __call__(self) -> UnitOfWork:
        return CountingUnitOfWork(self._inner(), self._metrics)


class CountingUnitOfWork:
    """The wrapped unit of work; the events staged in it are counted when it commits."""

    def __init__(self, inner: UnitOfWork, metrics: OperationalMetrics) -> None:
        self._inner = inner
        self._metrics = metrics
        self._staged: list[BusinessEvent] = []
        self._audit = _CountingAuditTrail(inner, self._staged)
        self._outbox = _CountingOutbox(inner, self._staged)

    @property
    def enrollments(self) -> EnrollmentRepository:
        return self._inner.enrollments

    @property
    def audit(self) -> AuditTrail:
        return self._audit

    @property
    def throttles(self) -> ThrottleRepository:
        return self._inner.throttles

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
        self._staged.clear()
        await self._inner.__aexit__(exc_type, exc, traceback)
        refused = next((e for kind, e in REFUSED.items() if isinstance(exc, kind)), None)
        if refused is not None:
            self._metrics.occurred(refused)

    async def commit(self) -> None:
        await self._inner.commit()
        committed = list(self._staged)
        self._staged.clear()
        for event in committed:
            self._metrics.occurred(event)


class _CountingAuditTrail:
    def __init__(self, inner: UnitOfWork, staged: list[BusinessEvent]) -> None:
        self._inner = inner
        self._staged = staged

    async def append(self, event: AuditEvent) -> None:
        await self._inner.audit.append(event)
        if (counted := AUDITED.get(event.action)) is not None:
            self._staged.append(counted)

    async def count_since(self, user_id: str, action: AuditAction, since: datetime) -> int:
        return await self._inner.audit.count_since(user_id, action, since)

    async def page(
        self, query: AuditQuery, after: AuditPosition | None, limit: int
    ) -> list[RecordedAuditEvent]:
        return await self._inner.audit.page(query, after, limit)


class _CountingOutbox:
    def __init__(self, inner: UnitOfWork, staged: list[BusinessEvent]) -> None:
        self._inner = inner
        self._staged = staged

    async def add(self, notification: Notification) -> None:
        await self._inner.outbox.add(notification)
        if (counted := ANNOUNCED.get(notification.kind)) is not None:
            self._staged.append(counted)

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[PendingNotification]:
        return await self._inner.outbox.claim(now, lease_until, limit)

    async def delivered(self, notification_id: int, now: datetime) -> None:
        await self._inner.outbox.delivered(notification_id, now)
        self._staged.append(BusinessEvent.NOTIFICATION_DELIVERED)

    async def retry_later(self, notification_id: int, due: datetime) -> None:
        await self._inner.outbox.retry_later(notification_id, due)
        self._staged.append(BusinessEvent.NOTIFICATION_DELIVERY_FAILED)

    async def backlog(self) -> int:
        return await self._inner.outbox.backlog()


class CountingCheckReservations:
    """Counts what the start of a check ended with: no authenticator to check against (never
    recorded), and, for a store whose own statement records the refusal outside any unit of work
    (``audited_outside_units_of_work``), a blocked check."""

    def __init__(
        self,
        inner: CheckReservations,
        metrics: OperationalMetrics,
        *,
        audited_outside_units_of_work: bool,
    ) -> None:
        self._inner = inner
        self._metrics = metrics
        self._counts_blocked = audited_outside_units_of_work

    async def reserve_check(
        self, user_id: str, now: datetime, digits: Set[int] | None, context: RequestContext
    ) -> CheckStart:
        start = await self._inner.reserve_check(user_id, now, digits, context)
        if start.retry_after is not None:
            if self._counts_blocked:
                self._metrics.occurred(BusinessEvent.VERIFICATION_LOCKED)
        elif not start.reserved and not start.authenticators:
            self._metrics.occurred(BusinessEvent.VERIFICATION_NO_AUTHENTICATOR)
        return start


class CountingCodeAcceptance:
    """Counts the audit event a store's one-statement acceptance records outside any unit of work."""

    def __init__(self, inner: CodeAcceptance, metrics: OperationalMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def accept(self, authenticator: Enrollment, event: AuditEvent) -> int:
        remaining = await self._inner.accept(authenticator, event)
        counted = AUDITED.get(event.action)
        if counted is not None:
            self._metrics.occurred(counted)
        return remaining
