"""RenameAuthenticator: give an authenticator another name."""

from __future__ import annotations

from uuid import UUID

from application.ports.audit import RequestContext
from application.ports.clock import Clock
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.list_authenticators import visible_to
from domain.enrollment import Enrollment


class RenameAuthenticator:
    """Renames one of the user's authenticators.

    Raises:
        EnrollmentNotFound: unknown, revoked, expired, or another user's.
        InvalidDeviceName: not 1 to 64 printable characters.
        ConcurrentUpdate: it changed meanwhile; nothing was written.
    """

    def __init__(self, *, unit_of_work: RecordingUnitsOfWork, clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock

    async def __call__(
        self, user_id: str, enrollment_id: UUID, device_name: str | None, context: RequestContext
    ) -> Enrollment:
        now = self._clock.now()
        async with self._unit_of_work(context) as uow:
            enrollment = visible_to(await uow.enrollments.get(enrollment_id), user_id, now)
            enrollment.rename(device_name, now)
            await uow.enrollments.update(enrollment)
            await uow.commit()
        return enrollment
