"""ConfirmationStanding: whether a retried confirmation may be told its first answer again."""

from __future__ import annotations

from uuid import UUID

from application.errors import EnrollmentNotFound
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.enrollment import EnrollmentStatus


class ConfirmationStanding:
    """A confirmation's answer ("this authenticator is active") is a fact about the moment it was
    given: a retry with the same Idempotency-Key gets it again only while it is still true and the
    user may be told it (API.md: a stored success is never replayed once the authenticator is
    revoked or the user locked). It only reads: nothing is locked, reserved, counted or written.

    Raises:
        EnrollmentNotFound: the authenticator was revoked or removed since (404).
        LockedOut: the user is locked out now (429 with ``Retry-After``).
    """

    def __init__(self, *, unit_of_work: UnitOfWorkFactory, clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock

    async def __call__(self, user_id: str, enrollment_id: UUID) -> None:
        async with self._unit_of_work() as uow:
            enrollment = await uow.enrollments.get(enrollment_id)
            throttle = await uow.users.throttle_of(user_id)  # read without its lock
        if (
            enrollment is None
            or enrollment.user_id != user_id
            or enrollment.status is not EnrollmentStatus.ACTIVE
        ):
            raise EnrollmentNotFound("the authenticator was removed since")
        if throttle is not None:
            throttle.refuse_while_blocked(self._clock.now())
