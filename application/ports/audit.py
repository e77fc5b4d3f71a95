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
    RECOVERY_CODES_GENERATED = "recovery_codes.generated"
    RECOVERY_CODE_USED = "recovery_code.used"
    AUTHENTICATOR_RENAMED = "authenticator.renamed"
    AUTHENTICATOR_REVOKED = "authenticator.revoked"
    ENROLLMENT_CANCELLED = "enrollment.cancelled"
    STEP_UP_REFUSED = "step_up.refused"


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


class AuditTrail(Protocol):
    """Append-only store of audit events, written in the same transaction as the change it records."""

    async def append(self, event: AuditEvent) -> None:
        """Records ``event``; it becomes durable when the unit of work commits."""
        ...

    async def count_since(self, user_id: str, action: AuditAction, since: datetime) -> int:
        """How many ``action`` events of ``user_id`` were recorded at or after ``since``."""
        ...
