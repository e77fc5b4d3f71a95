"""The hot statements of a code check on Postgres, each the whole of its unit in one statement and
one round trip (adapters/sqlalchemy/single_statement.py), on bare asyncpg.

Why bare asyncpg and not SQLAlchemy Core: measured on the same statement, same pool (README,
"Performance, round 2"), SQLAlchemy's execute path costs more CPU than the statement itself does
on asyncpg; for the two statements every verification runs, the difference is most of the
service's database CPU. Every other statement stays on SQLAlchemy Core.
"""

from __future__ import annotations

import math
from collections.abc import Set
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.single_statement import fetch, fetch_row
from application.errors import ConcurrentUpdate, ThrottleBusy
from application.event_records import Acting, EventRecords
from application.ports.audit import RequestContext
from application.ports.check_reservations import CheckStart
from domain.enrollment import Enrollment, EnrollmentStatus
from domain.events import CheckBlocked
from domain.mfa_method import MfaMethod
from domain.policy import HashAlgorithm, TotpPolicy
from domain.throttle import IN_FLIGHT_RETRY_AFTER, MAX_CONSECUTIVE_FAILURES

ACCEPT: Final = """
WITH used AS (
    UPDATE enrollments
    SET last_used_step = $3, last_used_at = $4, drift_steps = $5, version = version + 1
    WHERE id = $2 AND status = 'active'
      AND (last_used_step IS NULL OR last_used_step < $3)
    RETURNING id
), reset AS (
    UPDATE user_throttles
    SET failures = 0, lockouts = 0, locked_until = NULL, version = version + 1
    WHERE user_id = $1 AND EXISTS (SELECT FROM used)
), audited AS (
    INSERT INTO audit_events
        (action, user_id, enrollment_id, occurred_at, request_id, client_address, user_agent,
         detail)
    SELECT $6, $1, used.id, $11, $7, $8, $9, $10 FROM used
)
SELECT
    (SELECT count(*) FROM used) AS used,
    (SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL) AS remaining
"""
"""CodeAcceptance's unit: the step's conditional update (SECURITY.md V2), the throttle reset
(``AttemptThrottle.succeed``) and the audit row, each only when the step was used up."""


class PostgresCodeAcceptance:
    """Implements CodeAcceptance in one statement on Postgres; the statement writes the one audit
    row that ``records`` make of the accepted code, and ``records`` count it once committed."""

    def __init__(self, engine: AsyncEngine, records: EventRecords) -> None:
        self._engine = engine
        self._records = records

    async def accept(self, authenticator: Enrollment, context: RequestContext) -> int:
        if authenticator.last_used_step is None:
            raise ValueError("accept needs the step that was used")
        records = self._records.of(authenticator.collect_events(), Acting(context))
        if len(records.audit) != 1 or records.notifications:
            raise ValueError("one statement records exactly one audit row and no notification")
        [event] = records.audit
        row = await fetch_row(
            self._engine,
            ACCEPT,
            authenticator.user_id,
            authenticator.id,
            authenticator.last_used_step,
            authenticator.last_used_at,
            authenticator.drift_steps,
            event.action.value,
            context.request_id[:64],
            (context.client_address or "")[:64] or None,
            (context.user_agent or "")[:256] or None,
            event.detail,
            event.occurred_at,
        )
        if row["used"] != 1:
            raise ConcurrentUpdate("the step was used meanwhile")
        authenticator.version += 1
        self._records.committed(records)
        return int(row["remaining"])


RESERVE: Final = """
WITH busy AS (
    SELECT user_id FROM user_throttles WHERE user_id = $1 FOR UPDATE NOWAIT
), fitting AS (
    SELECT EXISTS (
        SELECT FROM enrollments
        WHERE user_id = $1 AND status = 'active'
          AND ($4::smallint[] IS NULL OR digits = ANY ($4::smallint[]))
    ) AS found
), reserved AS (
    INSERT INTO user_throttles AS t (user_id, failures, locked_until, lockouts, version)
    SELECT $1, 1, NULL, 0, 1 FROM fitting
    WHERE fitting.found AND (SELECT count(*) FROM busy) >= 0
    ON CONFLICT (user_id) DO UPDATE
    SET failures = CASE WHEN t.locked_until IS NULL THEN t.failures + 1 ELSE 1 END,
        locked_until = NULL,
        version = t.version + 1
    WHERE (t.locked_until IS NULL AND t.failures < $3) OR t.locked_until <= $2
    RETURNING t.user_id
), blocked AS (
    INSERT INTO audit_events
        (action, user_id, enrollment_id, occurred_at, request_id, client_address, user_agent)
    SELECT $5, $1, NULL, $2, $6, $7, $8 FROM fitting
    WHERE fitting.found AND NOT EXISTS (SELECT FROM reserved)
)
SELECT
    (SELECT count(*) FROM reserved) AS reserved,
    throttle.locked_until AS throttle_locked_until,
    e.*
FROM (SELECT) AS one
LEFT JOIN user_throttles AS throttle ON throttle.user_id = $1
LEFT JOIN enrollments AS e ON e.user_id = $1 AND e.status = 'active'
ORDER BY e.created_at
"""
"""CheckReservations' unit: the user's throttle taken without waiting (issue 11: a check that
meets another one of the same user is refused at once), an attempt reserved as
``AttemptThrottle.reserve`` reserves it (a block that is over starts the count again; a running
block or a quota full of attempts in flight refuses), the refusal audited, and the active
authenticators read from the statement's snapshot; nothing when no authenticator fits."""


class PostgresCheckReservations:
    """Implements CheckReservations in one statement on Postgres; a refusal writes the audit row
    that ``records`` make of ``CheckBlocked``, and ``records`` count it once committed."""

    def __init__(self, engine: AsyncEngine, records: EventRecords) -> None:
        self._engine = engine
        self._records = records

    async def reserve_check(
        self, user_id: str, now: datetime, digits: Set[int] | None, context: RequestContext
    ) -> CheckStart:
        blocked = self._records.of([CheckBlocked(user_id, now)], Acting(context))
        [event] = blocked.audit
        try:
            rows = await fetch(
                self._engine,
                RESERVE,
                user_id,
                now,
                MAX_CONSECUTIVE_FAILURES,
                None if digits is None else sorted(digits),
                event.action.value,
                event.context.request_id[:64],
                (event.context.client_address or "")[:64] or None,
                (event.context.user_agent or "")[:256] or None,
            )
        except asyncpg.LockNotAvailableError:
            raise ThrottleBusy("another check of this user is in flight") from None
        authenticators = [enrollment_from_record(row) for row in rows if row["id"] is not None]
        if rows[0]["reserved"] == 1:
            return CheckStart(authenticators, reserved=True, retry_after=None)
        if not any(digits is None or a.policy.digits in digits for a in authenticators):
            return CheckStart(authenticators, reserved=False, retry_after=None)
        self._records.committed(blocked)
        locked_until: datetime | None = rows[0]["throttle_locked_until"]
        retry_after = IN_FLIGHT_RETRY_AFTER
        if locked_until is not None and now < locked_until:
            retry_after = math.ceil((locked_until - now).total_seconds())
        return CheckStart(authenticators, reserved=False, retry_after=retry_after)


def enrollment_from_record(row: Any) -> Enrollment:
    return Enrollment(
        id=UUID(bytes=row["id"].bytes),
        user_id=row["user_id"],
        method=MfaMethod(row["method"]),
        policy=TotpPolicy(HashAlgorithm(row["algorithm"]), row["digits"], row["period"]),
        sealed_secret=row["sealed_secret"],
        device_name=row["device_name"],
        status=EnrollmentStatus(row["status"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        activated_at=row["activated_at"],
        last_used_step=row["last_used_step"],
        last_used_at=row["last_used_at"],
        drift_steps=row["drift_steps"],
        revoked_at=row["revoked_at"],
        version=row["version"],
    )
