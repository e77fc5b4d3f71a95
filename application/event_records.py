"""The one place where what happened becomes records: each domain event an audit row and perhaps a
notification, and each record that became durable a business count.

The unit of work uses it at commit (``RecordingUnitOfWork``); so do the stores' one-statement
check ports, whose single statement writes the same audit row outside any unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final
from uuid import UUID

from application.errors import NoActiveAuthenticator
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.notifications import Notification, NotificationKind
from application.ports.operational_metrics import BusinessEvent, OperationalMetrics
from domain.errors import EnrollmentExpired
from domain.events import (
    AuthenticatorRenamed,
    AuthenticatorRevoked,
    CheckBlocked,
    CheckInterrupted,
    CheckWithdrawn,
    CodeAccepted,
    CodeRefused,
    DomainEvent,
    EnrollmentCancelled,
    EnrollmentConfirmed,
    EnrollmentReplaced,
    EnrollmentStarted,
    FactorsReset,
    LockoutLifted,
    LockoutStarted,
    RecoveryCodeUsed,
)

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
"""Refusals that end a check with nothing recorded, counted all the same."""


@dataclass(frozen=True, slots=True)
class Acting:
    """Who the events of a unit of work are recorded for: the request, and the helpdesk agent or
    console operator acting on the user's behalf (None: the user), with their reason and ticket."""

    request: RequestContext
    agent: str | None = None
    reason: str | None = None
    ticket: str | None = None


@dataclass(slots=True)
class Records:
    """What some events are recorded as, in the order they happened."""

    audit: list[AuditEvent] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)


class EventRecords:
    """Turns events into records, and counts the records that were committed."""

    def __init__(self, metrics: OperationalMetrics | None = None) -> None:
        self._metrics = metrics

    def of(self, events: Iterable[DomainEvent], acting: Acting) -> Records:
        """The audit rows and notifications that record ``events``. A reset stands for the
        revocations and cancellations made with it: they are not recorded one by one."""
        events = list(events)
        reset = any(isinstance(event, FactorsReset) for event in events)
        records = Records()
        for event in events:
            if reset and isinstance(event, AuthenticatorRevoked | EnrollmentCancelled):
                continue
            action, detail, told = _translate(event, acting)
            enrollment_id: UUID | None = getattr(event, "enrollment_id", None)
            records.audit.append(
                AuditEvent(
                    action,
                    event.user_id,
                    enrollment_id,
                    event.occurred_at,
                    acting.request,
                    detail=detail,
                    actor=acting.agent,
                    reason=acting.reason,
                    ticket=acting.ticket,
                )
            )
            if told is not None:
                records.notifications.append(
                    Notification(told, event.user_id, enrollment_id, event.occurred_at)
                )
        return records

    def counted(self, records: Records) -> list[BusinessEvent]:
        """The business events that ``records`` stand for, once committed."""
        counted = [AUDITED[a.action] for a in records.audit if a.action in AUDITED]
        counted += [ANNOUNCED[n.kind] for n in records.notifications if n.kind in ANNOUNCED]
        return counted

    def occurred(self, events: Iterable[BusinessEvent]) -> None:
        """Counts ``events``, which became durable."""
        if self._metrics is not None:
            for event in events:
                self._metrics.occurred(event)

    def committed(self, records: Records) -> None:
        """Counts ``records``, which became durable outside any unit of work."""
        self.occurred(self.counted(records))

    def refused(self, error: BaseException | None) -> None:
        """Counts a refusal that recorded nothing (see ``REFUSED``); other errors count nothing."""
        counted = next((e for kind, e in REFUSED.items() if isinstance(error, kind)), None)
        if counted is not None:
            self.occurred([counted])


def _translate(
    event: DomainEvent, acting: Acting
) -> tuple[AuditAction, str | None, NotificationKind | None]:
    """The audit action, its detail and the notification (if any) of one event."""
    by_agent = acting.agent is not None
    match event:
        case EnrollmentStarted():
            return AuditAction.ENROLLMENT_STARTED, None, None
        case EnrollmentReplaced():
            return AuditAction.ENROLLMENT_REPLACED, None, None
        case EnrollmentConfirmed():
            return AuditAction.ENROLLMENT_CONFIRMED, None, NotificationKind.AUTHENTICATOR_ADDED
        case EnrollmentCancelled():
            action = AuditAction.ADMIN_CANCELLED if by_agent else AuditAction.ENROLLMENT_CANCELLED
            return action, None, None
        case AuthenticatorRevoked():
            action = AuditAction.ADMIN_REVOKED if by_agent else AuditAction.AUTHENTICATOR_REVOKED
            return action, None, NotificationKind.AUTHENTICATOR_REMOVED
        case AuthenticatorRenamed():
            return AuditAction.AUTHENTICATOR_RENAMED, None, None
        case CodeAccepted():
            return AuditAction.CODE_VERIFIED, None, None
        case CodeRefused(replayed=replayed):
            return (
                (AuditAction.CODE_REPLAYED if replayed else AuditAction.CODE_REJECTED),
                None,
                None,
            )
        case CheckBlocked():
            return AuditAction.CHECK_BLOCKED, None, None
        case CheckInterrupted():
            return AuditAction.DEPENDENCY_FAILED, None, None
        case CheckWithdrawn():
            return AuditAction.CHECK_WITHDRAWN, None, None
        case LockoutStarted():
            return AuditAction.LOCKED_OUT, None, NotificationKind.LOCKED_OUT
        case RecoveryCodeUsed():
            return AuditAction.RECOVERY_CODE_USED, None, None
        case LockoutLifted(anything=anything):
            detail = "lifted" if anything else "nothing to lift"
            return (
                AuditAction.ADMIN_UNLOCKED,
                detail,
                NotificationKind.UNLOCKED if anything else None,
            )
        case FactorsReset(revoked=revoked, cancelled=cancelled, voided=voided):
            detail = f"revoked={revoked} cancelled={cancelled} codes={voided}"
            return AuditAction.ADMIN_RESET, detail, NotificationKind.FACTORS_RESET
    raise TypeError(f"no record for {type(event).__name__}")
