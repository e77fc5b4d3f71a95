"""Audit events appended to the ``audit_events`` table."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import audit_events
from application.ports.audit import AuditAction, AuditEvent


class SqlAuditTrail:
    """Implements AuditTrail; events commit or roll back with the change they record."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def append(self, event: AuditEvent) -> None:
        with translated_errors():
            await self._connection.execute(
                sa.insert(audit_events).values(
                    action=event.action.value,
                    user_id=event.user_id,
                    enrollment_id=event.enrollment_id,
                    occurred_at=event.occurred_at,
                    request_id=event.context.request_id[:64],
                    client_address=(event.context.client_address or "")[:64] or None,
                    user_agent=(event.context.user_agent or "")[:256] or None,
                    detail=event.detail,
                )
            )

    async def count_since(self, user_id: str, action: AuditAction, since: datetime) -> int:
        query = sa.select(sa.func.count()).where(
            audit_events.c.user_id == user_id,
            audit_events.c.action == action.value,
            audit_events.c.occurred_at >= since,
        )
        with translated_errors():
            return int((await self._connection.execute(query)).scalar_one())
