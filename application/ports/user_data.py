from dataclasses import dataclass
from typing import Protocol

from domain.throttle import AttemptThrottle


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure removed, and how many audit events now carry the pseudonym."""

    enrollments: int = 0
    recovery_codes: int = 0
    throttles: int = 0
    notifications: int = 0
    idempotency_records: int = 0
    audit_events_pseudonymised: int = 0


class UserDataRepository(Protocol):
    """Everything the service holds of one user, across the stores, for the helpdesk and for
    erasure (GDPR art. 17)."""

    async def is_known(self, user_id: str) -> bool:
        """Whether the service holds an enrollment (of any status), a recovery code or a throttle
        of ``user_id``. The audit trail does not count: it outlives erasure, pseudonymised."""
        ...

    async def throttle_of(self, user_id: str) -> AttemptThrottle | None:
        """The user's throttle as stored, without locking it; None if none is stored."""
        ...

    async def erase(self, user_id: str, pseudonym: str) -> ErasureReport:
        """Stages the deletion of every enrollment (ciphertexts with them), recovery code,
        throttle, notification and idempotency record of ``user_id``, and the replacement of
        ``user_id`` by ``pseudonym`` in the audit trail (as user and as actor). Applied by the
        unit of work's commit, all at once or not at all."""
        ...
