"""CodeAcceptance over any unit of work: the repositories' statements in one transaction."""

from __future__ import annotations

from application.ports.audit import RequestContext
from application.recording_unit_of_work import RecordingUnitsOfWork
from domain.enrollment import Enrollment


class TransactionalCodeAcceptance:
    """Implements CodeAcceptance with the unit of work's repositories (every store: memory,
    SQLite, Postgres); a store can offer a faster one (adapters/sqlalchemy/postgres_checks.py)."""

    def __init__(self, unit_of_work: RecordingUnitsOfWork) -> None:
        self._unit_of_work = unit_of_work

    async def accept(self, authenticator: Enrollment, context: RequestContext) -> int:
        async with self._unit_of_work(context) as uow:
            await uow.enrollments.record_use(authenticator)
            throttle = await uow.throttles.lock(authenticator.user_id)
            throttle.succeed()
            await uow.throttles.save(throttle)
            remaining, _ = await uow.recovery_codes.remaining(authenticator.user_id)
            await uow.commit()
        return remaining
