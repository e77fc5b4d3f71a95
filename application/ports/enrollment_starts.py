from datetime import datetime
from typing import Protocol

from application.enrollment_limits import EnrollmentLimits
from application.ports.audit import RequestContext
from domain.enrollment import Enrollment


class EnrollmentStarts(Protocol):
    """An enrollment's start in the store: whether the user has room for one, and the start
    stored, each as one unit."""

    async def room(self, user_id: str, now: datetime, limits: EnrollmentLimits) -> list[Enrollment]:
        """The user's active authenticators, oldest first, when ``limits`` allow one more start at
        ``now`` (``EnrollmentLimits.check`` on the starts audited in its window). Writes nothing.

        Raises:
            EnrollmentRateLimited, TooManyAuthenticators: as ``EnrollmentLimits.check``.
            DependencyUnavailable: the store is unreachable or too slow.
        """
        ...

    async def store(
        self, enrollment: Enrollment, limits: EnrollmentLimits, context: RequestContext
    ) -> None:
        """Stores the new pending ``enrollment`` as one transaction under the user's enrollment
        lock (``EnrollmentRepository.lock_user``'s, which a confirmation takes too): checks
        ``limits`` again at the enrollment's ``created_at``, so that two starts at once cannot
        both pass a limit, nor a start that asked no step-up store beside an authenticator
        confirmed meanwhile; replaces the user's
        pending enrollment, if any (``Enrollment.give_way`` at ``created_at``: its secret stops
        working); adds ``enrollment``; and records the new events of both for ``context``
        (``EventRecords``), counted once committed.

        Raises:
            EnrollmentRateLimited, TooManyAuthenticators, ActivatedMeanwhile: as
                ``EnrollmentLimits.check``; nothing was written.
            ConcurrentUpdate: another change of the user's enrollments won; nothing was written.
            DependencyUnavailable: the store is unreachable or too slow; nothing was written.
        """
        ...
