"""An enrollment's start on Postgres, on bare asyncpg (why: postgres_checks.py): the room read in
one statement, and the start stored in one transaction: the lock, the room read again, the write.

Why a transaction and not one statement: the room must be counted after the user's lock is held.
A statement reads from the snapshot taken when it starts, so one statement that took the lock and
then counted would count from before the lock: a start that waited for the lock would not see
the start that held it, and two starts at once could both pass a limit. The lock is its own
statement; the room is counted once the lock is held, and ``EnrollmentLimits`` decides.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Final
from uuid import UUID

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.enrollment_repository import to_row, user_lock_key
from adapters.sqlalchemy.errors import DATABASE, described
from adapters.sqlalchemy.postgres_checks import enrollment_from_record
from adapters.sqlalchemy.single_statement import fetch, transaction
from application.enrollment_limits import EnrollmentLimits
from application.errors import DependencyUnavailable
from application.event_records import Acting, EventRecords, Records
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from domain.enrollment import Enrollment
from domain.events import EnrollmentReplaced

ROOM: Final = """
SELECT
    (SELECT count(*) FROM audit_events
     WHERE user_id = $1 AND action = $2 AND occurred_at >= $3) AS recent_starts,
    e.*
FROM (SELECT) AS one
LEFT JOIN enrollments AS e ON e.user_id = $1 AND e.status = 'active'
ORDER BY e.created_at
"""
"""The user's starts in the rate window, and active authenticators oldest first (one row with
null columns when there are none)."""

LOCK_USER: Final = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
"""``SqlEnrollmentRepository.lock_user``'s lock: held until COMMIT or ROLLBACK."""

STORE: Final = """
WITH replaced AS (
    DELETE FROM enrollments WHERE user_id = $1 AND status = 'pending' RETURNING id
), added AS (
    INSERT INTO enrollments
        (id, user_id, method, status, algorithm, digits, period, sealed_secret, device_name,
         created_at, expires_at, activated_at, last_used_step, last_used_at, drift_steps,
         revoked_at, version)
    SELECT $2, $1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17
    -- after the DELETE: the user's one pending enrollment (a unique index) is the new one
    WHERE (SELECT count(*) FROM replaced) >= 0
    RETURNING id
), audited AS (
    INSERT INTO audit_events
        (action, user_id, enrollment_id, occurred_at, request_id, client_address, user_agent,
         detail, actor, reason, ticket)
    SELECT event.action, $1, event.enrollment_id, event.occurred_at, $18, $19, $20,
        event.detail, $21, $22, $23
    FROM (
        SELECT 1 AS position, $24 AS action, replaced.id AS enrollment_id,
            $25::timestamptz AS occurred_at, $26 AS detail
        FROM replaced
        UNION ALL
        SELECT 2, $27, added.id, $28::timestamptz, $29 FROM added
    ) AS event
    ORDER BY event.position
)
SELECT (SELECT id FROM replaced) AS replaced
"""
"""The start, once ``ROOM`` counted room for it under the user's lock: the user's pending
enrollment replaced by the new one, and the audit rows of both (the replaced one's first, as the
unit of work writes them), all or nothing."""

_REPLACED: Final = UUID(int=0)
"""Stands for the pending enrollment ``STORE`` replaces, whose id only the statement reads."""


class PostgresEnrollmentStarts:
    """Implements EnrollmentStarts on Postgres: ``room`` in one statement, ``store`` in BEGIN, the
    lock, ``ROOM`` again, one statement, COMMIT. ``store`` writes the audit rows that ``records``
    make of the start and of the replacement, and ``records`` count them once committed."""

    def __init__(self, engine: AsyncEngine, records: EventRecords) -> None:
        self._engine = engine
        self._records = records

    async def room(self, user_id: str, now: datetime, limits: EnrollmentLimits) -> list[Enrollment]:
        with _waits_are_bounded():
            rows = await fetch(self._engine, ROOM, *_room_arguments(user_id, now, limits))
        return _room(rows, limits)

    async def store(
        self, enrollment: Enrollment, limits: EnrollmentLimits, context: RequestContext
    ) -> None:
        started, replacement, arguments = self.prepare(enrollment, context)
        now = enrollment.created_at

        async def locked_store(driver: asyncpg.Connection) -> asyncpg.Record:
            await driver.execute(LOCK_USER, user_lock_key(enrollment.user_id))
            rows = await driver.fetch(ROOM, *_room_arguments(enrollment.user_id, now, limits))
            _room(rows, limits)  # a refusal raises: rolled back
            return await driver.fetchrow(STORE, *arguments)

        with _waits_are_bounded():
            stored = await transaction(self._engine, locked_store)
        self.committed(stored, started, replacement)

    def prepare(
        self, enrollment: Enrollment, context: RequestContext
    ) -> tuple[Records, Records, tuple[object, ...]]:
        """The records of the start and of a replacement, and ``STORE``'s arguments."""
        user_id, now = enrollment.user_id, enrollment.created_at
        acting = Acting(context)
        started = self._records.of(enrollment.collect_events(), acting)
        replacement = self._records.of([EnrollmentReplaced(user_id, now, _REPLACED)], acting)
        start, replaced = _only_row(started), _only_row(replacement)
        row = to_row(enrollment)
        arguments = (
            user_id,
            *(row[column] for column in _ENROLLMENT_COLUMNS),
            start.context.request_id[:64],
            (start.context.client_address or "")[:64] or None,
            (start.context.user_agent or "")[:256] or None,
            start.actor,
            start.reason,
            start.ticket,
            replaced.action.value,
            replaced.occurred_at,
            replaced.detail,
            start.action.value,
            start.occurred_at,
            start.detail,
        )
        return started, replacement, arguments

    def committed(self, stored: asyncpg.Record, started: Records, replacement: Records) -> None:
        """Counts what ``STORE`` wrote, once committed."""
        self._records.committed(
            started if stored["replaced"] is None else _both(replacement, started)
        )


def _room_arguments(user_id: str, now: datetime, limits: EnrollmentLimits) -> tuple[object, ...]:
    return user_id, AuditAction.ENROLLMENT_STARTED.value, limits.window_start(now)


def _room(rows: list[asyncpg.Record], limits: EnrollmentLimits) -> list[Enrollment]:
    """The active authenticators ``ROOM`` read, when ``limits`` allow one more start."""
    active = [enrollment_from_record(row) for row in rows if row["id"] is not None]
    limits.check(rows[0]["recent_starts"], len(active))
    return active


_ENROLLMENT_COLUMNS: Final = (
    "id",
    "method",
    "status",
    "algorithm",
    "digits",
    "period",
    "sealed_secret",
    "device_name",
    "created_at",
    "expires_at",
    "activated_at",
    "last_used_step",
    "last_used_at",
    "drift_steps",
    "revoked_at",
    "version",
)
"""``STORE``'s enrollment parameters $2 to $17, as ``to_row`` names them."""


def _only_row(records: Records) -> AuditEvent:
    if len(records.audit) != 1 or records.notifications:
        raise ValueError("the statement records one audit row per event and no notification")
    return records.audit[0]


def _both(first: Records, second: Records) -> Records:
    return Records(first.audit + second.audit, first.notifications + second.notifications)


@contextmanager
def _waits_are_bounded() -> Iterator[None]:
    """A lock waited for longer than ``lock_timeout`` (the user's, held by a start that does not
    end; a table's) is the database being unavailable, as for the unit of work's statements."""
    try:
        yield
    except asyncpg.LockNotAvailableError as error:
        raise DependencyUnavailable(DATABASE, cause=described(error)) from None
