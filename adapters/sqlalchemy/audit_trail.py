"""Audit events appended to the ``audit_events`` table."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import audit_events
from adapters.sqlalchemy.transaction import Transaction
from application.ports.audit import AuditAction, AuditEvent

_APPEND = sa.insert(audit_events)
_COUNT_SINCE = sa.select(sa.func.count()).where(
    audit_events.c.user_id == sa.bindparam("user_id"),
    audit_events.c.action == sa.bindparam("action"),
    audit_events.c.occurred_at >= sa.bindparam("since"),
)


class SqlAuditTrail:
    """Implements AuditTrail; events commit or roll back with the change they record."""

    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def append(self, event: AuditEvent) -> None:
        row = {
            "action": event.action.value,
            "user_id": event.user_id,
            "enrollment_id": event.enrollment_id,
            "occurred_at": event.occurred_at,
            "request_id": event.context.request_id[:64],
            "client_address": (event.context.client_address or "")[:64] or None,
            "user_agent": (event.context.user_agent or "")[:256] or None,
            "detail": event.detail,
        }
        with translated_errors():
            await self._transaction.execute(_APPEND, row)

    async def count_since(self, user_id: str, action: AuditAction, since: datetime) -> int:
        parameters = {"user_id": user_id, "action": action.value, "since": since}
        with translated_errors():
            return int((await self._transaction.execute(_COUNT_SINCE, parameters)).scalar_one())
