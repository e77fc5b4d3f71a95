"""CodeAcceptance over any unit of work: the repositories' statements in one transaction."""

from __future__ import annotations

from application.ports.audit import AuditEvent
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.attempts import AttemptGate
from domain.enrollment import Enrollment


class TransactionalCodeAcceptance:
    """Implements CodeAcceptance with the unit of work's repositories (every store: memory,
    SQLite, Postgres); a store can offer a faster one (adapters/sqlalchemy/postgres_checks.py)."""

    def __init__(self, unit_of_work: UnitOfWorkFactory, attempts: AttemptGate) -> None:
        self._unit_of_work = unit_of_work
        self._attempts = attempts

    async def accept(self, authenticator: Enrollment, event: AuditEvent) -> int:
        async with self._unit_of_work() as uow:
            await uow.enrollments.record_use(authenticator)
            await self._attempts.succeed(uow, authenticator.user_id)
            remaining, _ = await uow.recovery_codes.remaining(authenticator.user_id)
            await uow.audit.append(event)
            await uow.commit()
        return remaining
