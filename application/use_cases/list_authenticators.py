"""ListAuthenticators and GetAuthenticator: what the user has set up, metadata only."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.errors import EnrollmentNotFound
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.enrollment import Enrollment, EnrollmentStatus


class ListAuthenticators:
    """The user's active authenticators and unexpired pending enrollment, oldest first. The
    enrollment objects carry only a ciphertext; callers show metadata, never a secret."""

    def __init__(self, *, unit_of_work: UnitOfWorkFactory, clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock

    async def __call__(self, user_id: str) -> list[Enrollment]:
        now = self._clock.now()
        async with self._unit_of_work() as uow:
            current = await uow.enrollments.current_for_user(user_id)
        return [e for e in current if not e.is_expired(now)]


class GetAuthenticator:
    """One of the user's authenticators.

    Raises:
        EnrollmentNotFound: unknown, revoked, expired, or another user's.
    """

    def __init__(self, *, unit_of_work: UnitOfWorkFactory, clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock

    async def __call__(self, user_id: str, enrollment_id: UUID) -> Enrollment:
        async with self._unit_of_work() as uow:
            enrollment = await uow.enrollments.get(enrollment_id)
        return visible_to(enrollment, user_id, self._clock.now())


def visible_to(enrollment: Enrollment | None, user_id: str, now: datetime) -> Enrollment:
    """``enrollment`` if ``user_id`` may see it; another user's is indistinguishable from none."""
    if (
        enrollment is None
        or enrollment.user_id != user_id
        or enrollment.status is EnrollmentStatus.REVOKED
        or enrollment.is_expired(now)
    ):
        raise EnrollmentNotFound("no such authenticator")
    return enrollment
