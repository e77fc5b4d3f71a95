"""Everything of one user across the tables: the helpdesk's view and erasure (GDPR art. 17)."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import (
    audit_events,
    enrollments,
    idempotency_keys,
    notification_outbox,
    recovery_codes,
    user_throttles,
)
from adapters.sqlalchemy.transaction import Transaction
from application.ports.user_data import ErasureReport
from domain.throttle import AttemptThrottle

_KNOWN = sa.select(
    sa.or_(
        sa.exists().where(enrollments.c.user_id == sa.bindparam("user_id")),
        sa.exists().where(recovery_codes.c.user_id == sa.bindparam("user_id")),
        sa.exists().where(user_throttles.c.user_id == sa.bindparam("user_id")),
    )
)
_THROTTLE = sa.select(user_throttles).where(user_throttles.c.user_id == sa.bindparam("user_id"))
_REMOVED_WITH_THE_USER = (
    enrollments,
    recovery_codes,
    user_throttles,
    notification_outbox,
    idempotency_keys,
)


class SqlUserDataRepository:
    """Implements UserDataRepository. Erasure is a handful of statements in the unit of work's
    transaction: everything goes at commit, or nothing."""

    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def is_known(self, user_id: str) -> bool:
        with translated_errors():
            result = await self._transaction.execute(_KNOWN, {"user_id": user_id})
            return bool(result.scalar_one())

    async def throttle_of(self, user_id: str) -> AttemptThrottle | None:
        with translated_errors():
            row = (await self._transaction.execute(_THROTTLE, {"user_id": user_id})).one_or_none()
        if row is None:
            return None
        return AttemptThrottle(
            user_id=row.user_id,
            failures=row.failures,
            locked_until=row.locked_until,
            lockouts=row.lockouts,
            version=row.version,
        )

    async def erase(self, user_id: str, pseudonym: str) -> ErasureReport:
        removed: list[int] = []
        with translated_errors():
            for table in _REMOVED_WITH_THE_USER:
                result = await self._transaction.execute(
                    sa.delete(table).where(table.c.user_id == user_id)
                )
                removed.append(result.rowcount)
            as_user = await self._transaction.execute(
                sa.update(audit_events)
                .where(audit_events.c.user_id == user_id)
                .values(user_id=pseudonym)
            )
            as_actor = await self._transaction.execute(
                sa.update(audit_events)
                .where(audit_events.c.actor == user_id)
                .values(actor=pseudonym)
            )
        enrollment_rows, codes, throttles, notifications, idempotency = removed
        return ErasureReport(
            enrollments=enrollment_rows,
            recovery_codes=codes,
            throttles=throttles,
            notifications=notifications,
            idempotency_records=idempotency,
            audit_events_pseudonymised=as_user.rowcount + as_actor.rowcount,
        )
