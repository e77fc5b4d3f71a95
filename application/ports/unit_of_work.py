from datetime import datetime
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from application.ports.audit import AuditTrail
from application.ports.idempotency import IdempotencyStore
from application.ports.notifications import Outbox
from application.ports.user_data import UserDataRepository
from domain.enrollment import Enrollment
from domain.throttle import AttemptThrottle


class EnrollmentRepository(Protocol):
    """Stores enrollment aggregates.

    The store itself holds the invariants: ids are unique and a user has at most one pending
    enrollment (SECURITY.md D2).
    """

    async def get(self, enrollment_id: UUID) -> Enrollment | None:
        """The enrollment with this id, or None."""
        ...

    async def lock_user(self, user_id: str) -> None:
        """Waits for, then holds until the unit of work ends, the user's enrollment lock: units of
        work that take it run one after another, so what one reads of the user's enrollments
        (and their audit trail) stays true until it commits (the room for another enrollment)."""
        ...

    async def pending_for_user(self, user_id: str) -> Enrollment | None:
        """The user's pending enrollment, expired or not, or None."""
        ...

    async def active_for_user(self, user_id: str) -> list[Enrollment]:
        """The user's active authenticators, oldest first."""
        ...

    async def current_for_user(self, user_id: str) -> list[Enrollment]:
        """The user's pending and active authenticators (not the revoked), oldest first."""
        ...

    async def record_use(self, enrollment: Enrollment) -> None:
        """Stores the step, drift and time of an accepted code, only if no code of the same or a
        later step was accepted meanwhile: one conditional UPDATE, so two replicas can never both
        accept one code (SECURITY.md V2). Raises ``version`` by one.

        Raises:
            ConcurrentUpdate: the step was used meanwhile, or the authenticator is no longer active.
        """
        ...

    async def remove_expired_pending(self, now: datetime) -> int:
        """Deletes pending enrollments whose expiry is past, with their ciphertexts; returns how many."""
        ...

    async def add(self, enrollment: Enrollment) -> None:
        """Stages a new enrollment.

        Raises:
            ConcurrentUpdate (at commit at the latest): the user gained a pending enrollment meanwhile.
        """
        ...

    async def update(self, enrollment: Enrollment) -> None:
        """Stores the changed ``enrollment`` if nobody changed it since it was read, and raises its
        ``version`` by one.

        Raises:
            ConcurrentUpdate (at commit at the latest): it was changed or removed meanwhile.
        """
        ...

    async def count(self) -> int:
        """How many enrollments are stored, of every user and status."""
        ...

    async def page(self, after: UUID | None, limit: int) -> list[Enrollment]:
        """Up to ``limit`` enrollments of every user in id order, starting after the id ``after``."""
        ...

    async def remove(self, enrollment: Enrollment) -> None:
        """Stages the deletion of ``enrollment``.

        Raises:
            ConcurrentUpdate (at commit at the latest): it was changed or removed meanwhile.
        """
        ...


class ThrottleRepository(Protocol):
    """Stores each user's attempt throttle. One row per user, shared by every replica."""

    async def lock(self, user_id: str, *, wait: bool = True) -> AttemptThrottle:
        """The user's throttle (a fresh one if none is stored), locked until the unit of work ends,
        so that concurrent reservations are counted one after another.

        With ``wait=False`` a throttle that another unit of work holds is not waited for: one
        user's flood of parallel checks then queues on no lock and holds no pooled connection.

        Raises:
            ThrottleBusy: ``wait`` is False and another unit of work holds the user's throttle.
        """
        ...

    async def save(self, throttle: AttemptThrottle) -> None:
        """Stores ``throttle`` if its version is still the stored one, then raises the version.

        Raises:
            ConcurrentUpdate (at commit at the latest): another request changed it meanwhile.
        """
        ...


class RecoveryCodeRepository(Protocol):
    """Stores the hashes of each user's recovery codes; the codes themselves are never stored."""

    async def replace(self, user_id: str, code_hashes: list[str], generated_at: datetime) -> None:
        """Makes ``code_hashes`` the user's only codes: the earlier set stops working."""
        ...

    async def consume(self, user_id: str, code_hash: str, now: datetime) -> bool:
        """Marks the unused code with this hash used, in one conditional UPDATE; False if there is
        none (wrong, or used already)."""
        ...

    async def remaining(self, user_id: str) -> tuple[int, datetime | None]:
        """How many unused codes the user has, and when the set was generated (None if never)."""
        ...

    async def discard(self, user_id: str) -> int:
        """Voids every code of the user, used or not; returns how many unused ones there were."""
        ...


class UnitOfWork(Protocol):
    """One transaction over the repositories. Leaving the block without ``commit`` rolls back."""

    @property
    def enrollments(self) -> EnrollmentRepository: ...

    @property
    def audit(self) -> AuditTrail: ...

    @property
    def throttles(self) -> ThrottleRepository: ...

    @property
    def recovery_codes(self) -> RecoveryCodeRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def idempotency(self) -> IdempotencyStore: ...

    @property
    def users(self) -> UserDataRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None:
        """Makes every staged change durable at once.

        Raises:
            ConcurrentUpdate: an invariant of the store refused the changes; nothing was written.
            DependencyUnavailable: the store is unreachable or too slow; nothing was written.
        """
        ...


class UnitOfWorkFactory(Protocol):
    """Opens a new unit of work."""

    def __call__(self) -> UnitOfWork: ...
