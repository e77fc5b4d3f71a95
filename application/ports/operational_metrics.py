from enum import StrEnum
from typing import Protocol


class BusinessEvent(StrEnum):
    """What an on-call engineer counts. Never carries a user, an id, a secret or a code: the
    set of values is the whole label set."""

    ENROLLMENT_STARTED = "enrollment.started"
    ENROLLMENT_REPLACED = "enrollment.replaced"
    ENROLLMENT_CONFIRMED = "enrollment.confirmed"
    ENROLLMENT_EXPIRED = "enrollment.expired"
    """A confirmation came after the pending enrollment's expiry."""
    ENROLLMENT_CANCELLED = "enrollment.cancelled"
    VERIFICATION_ACCEPTED = "verification.accepted"
    VERIFICATION_WRONG = "verification.wrong"
    VERIFICATION_REPLAYED = "verification.replayed"
    VERIFICATION_LOCKED = "verification.locked"
    VERIFICATION_NO_AUTHENTICATOR = "verification.no_authenticator"
    VERIFICATION_RECOVERY_CODE = "verification.recovery_code"
    VERIFICATION_DEPENDENCY_FAILED = "verification.dependency_failed"
    LOCKOUT_STARTED = "lockout.started"
    RECOVERY_CODES_REGENERATED = "recovery_codes.regenerated"
    AUTHENTICATOR_REVOKED = "authenticator.revoked"
    STEP_UP_REFUSED = "step_up.refused"
    NOTIFICATION_DELIVERED = "notification.delivered"
    NOTIFICATION_DELIVERY_FAILED = "notification.delivery_failed"


class OperationalMetrics(Protocol):
    """Where the application reports what happened, for dashboards and alerts. Calls return at
    once and never fail: a metric that cannot be recorded is not the request's problem."""

    def occurred(self, event: BusinessEvent) -> None:
        """Counts one ``event`` (called once its change is committed)."""
        ...

    def outbox_backlog(self, undelivered: int) -> None:
        """The number of notifications not yet delivered, as last measured."""
        ...
