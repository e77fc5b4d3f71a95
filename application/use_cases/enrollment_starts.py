"""EnrollmentStarts over any unit of work: the repositories' statements, each unit one transaction."""

from __future__ import annotations

from datetime import datetime

from application.enrollment_limits import EnrollmentLimits
from application.ports.audit import AuditAction, RequestContext
from application.ports.unit_of_work import UnitOfWork
from application.recording_unit_of_work import RecordingUnitsOfWork
from domain.enrollment import Enrollment


class TransactionalEnrollmentStarts:
    """Implements EnrollmentStarts with the unit of work's repositories (every store: memory,
    SQLite, Postgres); a store can offer a faster one
    (adapters/sqlalchemy/postgres_enrollment_starts.py)."""

    def __init__(self, unit_of_work: RecordingUnitsOfWork) -> None:
        self._unit_of_work = unit_of_work

    async def room(self, user_id: str, now: datetime, limits: EnrollmentLimits) -> list[Enrollment]:
        async with self._unit_of_work() as uow:
            return await _room(uow, user_id, now, limits)

    async def store(
        self, enrollment: Enrollment, limits: EnrollmentLimits, context: RequestContext
    ) -> None:
        user_id, now = enrollment.user_id, enrollment.created_at
        async with self._unit_of_work(context) as uow:
            await uow.enrollments.lock_user(user_id)
            await _room(uow, user_id, now, limits)
            replaced = await uow.enrollments.pending_for_user(user_id)
            if replaced is not None:
                replaced.give_way(now)
                await uow.enrollments.remove(replaced)
            await uow.enrollments.add(enrollment)
            await uow.commit()


async def _room(
    uow: UnitOfWork, user_id: str, now: datetime, limits: EnrollmentLimits
) -> list[Enrollment]:
    active = await uow.enrollments.active_for_user(user_id)
    recent = await uow.audit.count_since(
        user_id, AuditAction.ENROLLMENT_STARTED, limits.window_start(now)
    )
    limits.check(recent, len(active))
    return active
