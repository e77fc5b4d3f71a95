"""Enrollments stored in the ``enrollments`` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import enrollments
from adapters.sqlalchemy.transaction import Transaction
from application.errors import ConcurrentUpdate
from domain.enrollment import Enrollment, EnrollmentStatus
from domain.mfa_method import MfaMethod
from domain.policy import HashAlgorithm, TotpPolicy


def to_row(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "id": enrollment.id,
        "user_id": enrollment.user_id,
        "method": enrollment.method.value,
        "status": enrollment.status.value,
        "algorithm": enrollment.policy.algorithm.value,
        "digits": enrollment.policy.digits,
        "period": enrollment.policy.period,
        "sealed_secret": enrollment.sealed_secret,
        "device_name": enrollment.device_name,
        "created_at": enrollment.created_at,
        "expires_at": enrollment.expires_at,
        "activated_at": enrollment.activated_at,
        "last_used_step": enrollment.last_used_step,
        "last_used_at": enrollment.last_used_at,
        "drift_steps": enrollment.drift_steps,
        "revoked_at": enrollment.revoked_at,
        "version": enrollment.version,
    }


def from_row(row: sa.Row[Any]) -> Enrollment:
    return Enrollment(
        id=row.id,
        user_id=row.user_id,
        method=MfaMethod(row.method),
        policy=TotpPolicy(HashAlgorithm(row.algorithm), row.digits, row.period),
        sealed_secret=row.sealed_secret,
        device_name=row.device_name,
        status=EnrollmentStatus(row.status),
        created_at=row.created_at,
        expires_at=row.expires_at,
        activated_at=row.activated_at,
        last_used_step=row.last_used_step,
        last_used_at=row.last_used_at,
        drift_steps=row.drift_steps,
        revoked_at=row.revoked_at,
        version=row.version,
    )


# The hot statements are built once, here and in the other repositories: building one costs as much
# CPU as running it on asyncpg.
_BY_ID = sa.select(enrollments).where(enrollments.c.id == sa.bindparam("enrollment_id"))
_OF_USER = sa.select(enrollments).where(enrollments.c.user_id == sa.bindparam("user_id"))
_PENDING_FOR_USER = _OF_USER.where(enrollments.c.status == EnrollmentStatus.PENDING.value)
_ACTIVE_FOR_USER = _OF_USER.where(enrollments.c.status == EnrollmentStatus.ACTIVE.value).order_by(
    enrollments.c.created_at
)
_CURRENT_FOR_USER = _OF_USER.where(enrollments.c.status != EnrollmentStatus.REVOKED.value).order_by(
    enrollments.c.created_at
)
_RECORD_USE = (
    sa.update(enrollments)
    .where(
        enrollments.c.id == sa.bindparam("enrollment_id"),
        enrollments.c.status == EnrollmentStatus.ACTIVE.value,
        sa.or_(
            enrollments.c.last_used_step.is_(None),
            enrollments.c.last_used_step < sa.bindparam("step"),
        ),
    )
    .values(
        last_used_step=sa.bindparam("step"),
        last_used_at=sa.bindparam("used_at"),
        drift_steps=sa.bindparam("drift"),
        version=enrollments.c.version + 1,
    )
)
"""Records a used step only if no later one is recorded: of two requests with one code, one wins."""
_INSERT = sa.insert(enrollments)
_SAME_VERSION = sa.and_(
    enrollments.c.id == sa.bindparam("enrollment_id"),
    enrollments.c.version == sa.bindparam("read_version"),
)
_UPDATE = sa.update(enrollments).where(_SAME_VERSION)
"""Sets the columns named in the parameters, if the row is still the version that was read."""
_REMOVE = sa.delete(enrollments).where(_SAME_VERSION)


_LOCK_USER = sa.select(
    sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(sa.bindparam("key"), 0))
)
"""A transaction-scoped advisory lock on the user: released by COMMIT or ROLLBACK, held by no row."""


def user_lock_key(user_id: str) -> str:
    """The text whose hash ``lock_user`` locks (postgres_enrollment_starts.py takes the same)."""
    return f"enrollments:{user_id}"


class SqlEnrollmentRepository:
    """Implements EnrollmentRepository inside the unit of work's transaction."""

    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def lock_user(self, user_id: str) -> None:
        if self._transaction.dialect_name != "postgresql":
            return  # SQLite's transactions begin IMMEDIATE: they hold the database's write lock
        with translated_errors():
            await self._transaction.execute(_LOCK_USER, {"key": user_lock_key(user_id)})

    async def _all(self, query: sa.Select[Any], **parameters: Any) -> list[Enrollment]:
        with translated_errors():
            rows = (await self._transaction.execute(query, parameters)).all()
        return [from_row(row) for row in rows]

    async def _first(self, query: sa.Select[Any], **parameters: Any) -> Enrollment | None:
        found = await self._all(query, **parameters)
        return found[0] if found else None

    async def get(self, enrollment_id: UUID) -> Enrollment | None:
        return await self._first(_BY_ID, enrollment_id=enrollment_id)

    async def pending_for_user(self, user_id: str) -> Enrollment | None:
        return await self._first(_PENDING_FOR_USER, user_id=user_id)

    async def active_for_user(self, user_id: str) -> list[Enrollment]:
        return await self._all(_ACTIVE_FOR_USER, user_id=user_id)

    async def current_for_user(self, user_id: str) -> list[Enrollment]:
        return await self._all(_CURRENT_FOR_USER, user_id=user_id)

    async def record_use(self, enrollment: Enrollment) -> None:
        if enrollment.last_used_step is None:
            raise ValueError("record_use needs the step that was used")
        with translated_errors():
            result = await self._transaction.execute(
                _RECORD_USE,
                {
                    "enrollment_id": enrollment.id,
                    "step": enrollment.last_used_step,
                    "used_at": enrollment.last_used_at,
                    "drift": enrollment.drift_steps,
                },
            )
        if result.rowcount != 1:
            raise ConcurrentUpdate("the step was used meanwhile")
        enrollment.version += 1

    async def remove_expired_pending(self, now: datetime) -> int:
        with translated_errors():
            result = await self._transaction.execute(
                sa.delete(enrollments).where(
                    enrollments.c.status == EnrollmentStatus.PENDING.value,
                    enrollments.c.expires_at <= now,
                )
            )
        return int(result.rowcount)

    async def add(self, enrollment: Enrollment) -> None:
        with translated_errors():
            await self._transaction.execute(_INSERT, to_row(enrollment))

    async def update(self, enrollment: Enrollment) -> None:
        values = to_row(enrollment)
        values["version"] = enrollment.version + 1
        with translated_errors():
            result = await self._transaction.execute(
                _UPDATE,
                {**values, "enrollment_id": enrollment.id, "read_version": enrollment.version},
            )
        if result.rowcount != 1:
            raise ConcurrentUpdate("the enrollment was changed or removed meanwhile")
        enrollment.version += 1

    async def count(self) -> int:
        with translated_errors():
            return int(
                (
                    await self._transaction.execute(
                        sa.select(sa.func.count()).select_from(enrollments)
                    )
                ).scalar_one()
            )

    async def page(self, after: UUID | None, limit: int) -> list[Enrollment]:
        query = sa.select(enrollments).order_by(enrollments.c.id).limit(limit)
        if after is not None:
            query = query.where(enrollments.c.id > after)
        with translated_errors():
            rows = (await self._transaction.execute(query)).all()
        return [from_row(row) for row in rows]

    async def remove(self, enrollment: Enrollment) -> None:
        with translated_errors():
            result = await self._transaction.execute(
                _REMOVE, {"enrollment_id": enrollment.id, "read_version": enrollment.version}
            )
        if result.rowcount != 1:
            raise ConcurrentUpdate("the enrollment was changed or removed meanwhile")
