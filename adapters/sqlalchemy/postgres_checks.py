"""The hot statements of a code check on Postgres, each the whole of its unit in one statement and
one round trip (adapters/sqlalchemy/single_statement.py), on bare asyncpg.

Why bare asyncpg and not SQLAlchemy Core: measured on the same statement, same pool (README,
"Performance, round 2"), SQLAlchemy's execute path costs more CPU than the statement itself does
on asyncpg; for the two statements every verification runs, the difference is most of the
service's database CPU. Every other statement stays on SQLAlchemy Core.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.single_statement import fetch_row
from application.errors import ConcurrentUpdate
from application.ports.audit import AuditEvent
from domain.enrollment import Enrollment

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
    """Implements CodeAcceptance in one statement on Postgres."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def accept(self, authenticator: Enrollment, event: AuditEvent) -> int:
        if authenticator.last_used_step is None:
            raise ValueError("accept needs the step that was used")
        context = event.context
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
        return int(row["remaining"])
