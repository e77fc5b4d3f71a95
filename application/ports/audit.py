from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID


class AuditAction(StrEnum):
    """What happened. Never carries a secret, a code or a token."""

    ENROLLMENT_STARTED = "enrollment.started"
    ENROLLMENT_REPLACED = "enrollment.replaced"
    ENROLLMENT_CONFIRMED = "enrollment.confirmed"
    CODE_VERIFIED = "code.verified"
    CODE_REJECTED = "code.rejected"
    CODE_REPLAYED = "code.replayed"
    LOCKED_OUT = "user.locked_out"
    CHECK_BLOCKED = "code.blocked"
    DEPENDENCY_FAILED = "check.dependency_failed"
    CHECK_WITHDRAWN = "check.withdrawn"
    RECOVERY_CODES_GENERATED = "recovery_codes.generated"
    RECOVERY_CODE_USED = "recovery_code.used"
    AUTHENTICATOR_RENAMED = "authenticator.renamed"
    AUTHENTICATOR_REVOKED = "authenticator.revoked"
    ENROLLMENT_CANCELLED = "enrollment.cancelled"
    STEP_UP_REFUSED = "step_up.refused"
    ADMIN_VIEWED_USER = "admin.user_viewed"
    ADMIN_REVOKED = "admin.authenticator_revoked"
    ADMIN_CANCELLED = "admin.enrollment_cancelled"
    ADMIN_RESET = "admin.factors_reset"
    ADMIN_UNLOCKED = "admin.unlocked"
    ADMIN_ERASED = "admin.user_erased"
    ADMIN_READ_AUDIT = "admin.audit_read"
    ADMIN_EXPORTED_AUDIT = "admin.audit_exported"
    ADMIN_REPLAYED = "admin.request_replayed"


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Where a request came from, for the audit trail."""

    request_id: str
    client_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One append-only record of the audit trail (SECURITY.md D4)."""

    action: AuditAction
    user_id: str
    enrollment_id: UUID | None
    occurred_at: datetime
    context: RequestContext
    detail: str | None = None
    """A short non-secret note, e.g. a lockout's length."""
    actor: str | None = None
    """Who acted when it was not the user: a helpdesk agent's subject, or ``cli:<os user>``."""
    reason: str | None = None
    """Why an agent acted, in their words."""
    ticket: str | None = None
    """The agent's ticket reference."""


EVERY_USER = "*"
"""The ``user_id`` of an event about no one user (an agent reading the whole trail)."""


@dataclass(frozen=True, slots=True)
class RecordedAuditEvent:
    """An event as stored, with the id the trail gave it (ascending in insertion order)."""

    id: int
    event: AuditEvent


@dataclass(frozen=True, slots=True)
class AuditPosition:
    """Where a page of the trail ended: newest first, ordered by time and then id."""

    occurred_at: datetime
    id: int


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which events to read; every field left None matches all. ``since`` is inclusive,
    ``until`` exclusive. ``actor`` matches the agent, or the user for their own actions."""

    user_id: str | None = None
    action: AuditAction | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditTrail(Protocol):
    """Append-only store of audit events, written in the same transaction as the change it records."""

    async def append(self, event: AuditEvent) -> None:
        """Records ``event``; it becomes durable when the unit of work commits."""
        ...

    async def count_since(self, user_id: str, action: AuditAction, since: datetime) -> int:
        """How many ``action`` events of ``user_id`` were recorded at or after ``since``."""
        ...

    async def page(
        self, query: AuditQuery, after: AuditPosition | None, limit: int
    ) -> list[RecordedAuditEvent]:
        """Up to ``limit`` committed events matching ``query``, newest first (by time, then id),
        strictly after ``after`` in that order: a keyset, so that events added meanwhile never
        shift a later page."""
        ...
