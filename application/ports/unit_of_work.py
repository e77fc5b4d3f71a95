from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from application.ports.audit import AuditTrail
from domain.enrollment import Enrollment


class EnrollmentRepository(Protocol):
    """Stores enrollment aggregates.

    The store itself holds the invariants: ids are unique and a user has at most one pending
    enrollment (SECURITY.md D2).
    """

    async def get(self, enrollment_id: UUID) -> Enrollment | None:
        """The enrollment with this id, or None."""
        ...

    async def pending_for_user(self, user_id: str) -> Enrollment | None:
        """The user's pending enrollment, expired or not, or None."""
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

    async def page(self, after: UUID | None, limit: int) -> list[Enrollment]:
        """Up to ``limit`` enrollments of every user in id order, starting after the id ``after``."""
        ...

    async def remove(self, enrollment: Enrollment) -> None:
        """Stages the deletion of ``enrollment``.

        Raises:
            ConcurrentUpdate (at commit at the latest): it was changed or removed meanwhile.
        """
        ...


class UnitOfWork(Protocol):
    """One transaction over the repositories. Leaving the block without ``commit`` rolls back."""

    @property
    def enrollments(self) -> EnrollmentRepository: ...

    @property
    def audit(self) -> AuditTrail: ...

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
