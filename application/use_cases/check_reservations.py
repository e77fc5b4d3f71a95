"""CheckReservations over any unit of work: the repositories' statements in one transaction."""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime

from application.ports.audit import RequestContext
from application.ports.check_reservations import CheckStart
from application.recording_unit_of_work import RecordingUnitsOfWork
from domain.errors import LockedOut


class TransactionalCheckReservations:
    """Implements CheckReservations with the unit of work's repositories (every store: memory,
    SQLite, Postgres); a store can offer a faster one (adapters/sqlalchemy/postgres_checks.py)."""

    def __init__(self, unit_of_work: RecordingUnitsOfWork) -> None:
        self._unit_of_work = unit_of_work

    async def reserve_check(
        self, user_id: str, now: datetime, digits: Set[int] | None, context: RequestContext
    ) -> CheckStart:
        async with self._unit_of_work(context) as uow:
            throttle = await uow.throttles.lock(user_id, wait=False)
            authenticators = await uow.enrollments.active_for_user(user_id)
            if not any(digits is None or a.policy.digits in digits for a in authenticators):
                return CheckStart(authenticators, reserved=False, retry_after=None)
            try:
                throttle.reserve(now)
            except LockedOut as refused:
                await uow.commit()
                return CheckStart(authenticators, reserved=False, retry_after=refused.retry_after)
            await uow.throttles.save(throttle)
            await uow.commit()
        return CheckStart(authenticators, reserved=True, retry_after=None)
