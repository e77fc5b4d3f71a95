"""An enrollment's start on Postgres, on bare asyncpg (why: postgres_checks.py): the room read in
one statement, and the start stored in one transaction of two statements.

Why a transaction and not one statement: the room must be counted after the user's lock is held.
A statement reads from the snapshot taken when it starts, so one statement that took the lock and
then counted would count from before the lock: a start that waited for the lock would not see
the start that held it, and two starts at once could both pass a limit. The lock is its own
statement, and the statement that counts and writes starts once the lock is held.
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
WITH counted AS (
    SELECT
        (SELECT count(*) FROM audit_events
         WHERE user_id = $1 AND action = $2 AND occurred_at >= $3) AS recent_starts,
        (SELECT count(*) FROM enrollments WHERE user_id = $1 AND status = 'active') AS active
), room AS (
    SELECT recent_starts, active, recent_starts < $4 AND active < $5 AS allowed FROM counted
), replaced AS (
    DELETE FROM enrollments
    WHERE user_id = $1 AND status = 'pending' AND (SELECT allowed FROM room)
    RETURNING id
), added AS (
    INSERT INTO enrollments
        (id, user_id, method, status, algorithm, digits, period, sealed_secret, device_name,
         created_at, expires_at, activated_at, last_used_step, last_used_at, drift_steps,
         revoked_at, version)
    SELECT $6, $1, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21
    FROM room
    -- after the DELETE: the user's one pending enrollment (a unique index) is the new one
    WHERE room.allowed AND (SELECT count(*) FROM replaced) >= 0
    RETURNING id
), audited AS (
    INSERT INTO audit_events
        (action, user_id, enrollment_id, occurred_at, request_id, client_address, user_agent,
         detail, actor, reason, ticket)
    SELECT event.action, $1, event.enrollment_id, event.occurred_at, $22, $23, $24,
        event.detail, $25, $26, $27
    FROM (
        SELECT 1 AS position, $28 AS action, replaced.id AS enrollment_id,
            $29::timestamptz AS occurred_at, $30 AS detail
        FROM replaced
        UNION ALL
        SELECT 2, $31, added.id, $32::timestamptz, $33 FROM added
    ) AS event
    ORDER BY event.position
)
SELECT
    room.recent_starts,
    room.active,
    (SELECT id FROM replaced) AS replaced,
    (SELECT count(*) FROM added) AS added
FROM room
"""
"""The start under the user's lock: the room counted again, and when ``EnrollmentLimits`` allow
it, the user's pending enrollment replaced by the new one, and the audit rows of both (the
replaced one's first, as the unit of work writes them), all or nothing."""

_REPLACED: Final = UUID(int=0)
"""Stands for the pending enrollment ``STORE`` replaces, whose id only the statement reads."""


class PostgresEnrollmentStarts:
    """Implements EnrollmentStarts on Postgres: ``room`` in one statement, ``store`` in BEGIN, the
    lock, one statement, COMMIT. ``store`` writes the audit rows that ``records`` make of the
    start and of the replacement, and ``records`` count them once committed."""

    def __init__(self, engine: AsyncEngine, records: EventRecords) -> None:
        self._engine = engine
        self._records = records

    async def room(self, user_id: str, now: datetime, limits: EnrollmentLimits) -> list[Enrollment]:
        with _waits_are_bounded():
            rows = await fetch(
                self._engine,
                ROOM,
                user_id,
                AuditAction.ENROLLMENT_STARTED.value,
                limits.window_start(now),
            )
        active = [enrollment_from_record(row) for row in rows if row["id"] is not None]
        limits.check(rows[0]["recent_starts"], len(active))
        return active

    async def store(
        self, enrollment: Enrollment, limits: EnrollmentLimits, context: RequestContext
    ) -> None:
        started, replacement, arguments = self.prepare(enrollment, limits, context)

        async def locked_store(driver: asyncpg.Connection) -> asyncpg.Record:
            await driver.execute(LOCK_USER, user_lock_key(enrollment.user_id))
            stored = await driver.fetchrow(STORE, *arguments)
            check_stored(stored, limits)  # a refusal raises: rolled back
            return stored

        with _waits_are_bounded():
            stored = await transaction(self._engine, locked_store)
        self.committed(stored, started, replacement)

    def prepare(
        self, enrollment: Enrollment, limits: EnrollmentLimits, context: RequestContext
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
            AuditAction.ENROLLMENT_STARTED.value,
            limits.window_start(now),
            limits.max_starts_per_hour,
            limits.max_active,
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


def check_stored(stored: asyncpg.Record, limits: EnrollmentLimits) -> None:
    """Returns when ``STORE`` stored the start.

    Raises:
        EnrollmentRateLimited, TooManyAuthenticators: it counted no room.
    """
    if stored["added"] != 1:
        limits.check(stored["recent_starts"], stored["active"])
        raise RuntimeError("the start was neither stored nor refused")


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
"""``STORE``'s enrollment parameters $6, $7…, as ``to_row`` names them."""


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
