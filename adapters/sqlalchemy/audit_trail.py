"""Audit events appended to the ``audit_events`` table."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import audit_events
from adapters.sqlalchemy.transaction import Transaction
from application.ports.audit import (
    AuditAction,
    AuditEvent,
    AuditPosition,
    AuditQuery,
    RecordedAuditEvent,
    RequestContext,
)

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
            "actor": event.actor,
            "reason": event.reason,
            "ticket": event.ticket,
        }
        with translated_errors():
            await self._transaction.execute(_APPEND, row)

    async def count_since(self, user_id: str, action: AuditAction, since: datetime) -> int:
        parameters = {"user_id": user_id, "action": action.value, "since": since}
        with translated_errors():
            return int((await self._transaction.execute(_COUNT_SINCE, parameters)).scalar_one())

    async def page(
        self, query: AuditQuery, after: AuditPosition | None, limit: int
    ) -> list[RecordedAuditEvent]:
        statement = (
            sa.select(audit_events)
            .where(*_conditions(query, after))
            .order_by(audit_events.c.occurred_at.desc(), audit_events.c.id.desc())
            .limit(limit)
        )
        with translated_errors():
            rows = (await self._transaction.execute(statement)).all()
        return [_recorded(row) for row in rows]


def _conditions(query: AuditQuery, after: AuditPosition | None) -> list[sa.ColumnElement[bool]]:
    column = audit_events.c
    found: list[sa.ColumnElement[bool]] = []
    if query.user_id is not None:
        found.append(column.user_id == query.user_id)
    if query.action is not None:
        found.append(column.action == query.action.value)
    if query.actor is not None:
        found.append(
            sa.or_(
                column.actor == query.actor,
                sa.and_(column.actor.is_(None), column.user_id == query.actor),
            )
        )
    if query.since is not None:
        found.append(column.occurred_at >= query.since)
    if query.until is not None:
        found.append(column.occurred_at < query.until)
    if after is not None:
        found.append(
            sa.or_(
                column.occurred_at < after.occurred_at,
                sa.and_(column.occurred_at == after.occurred_at, column.id < after.id),
            )
        )
    return found


def _recorded(row: sa.Row[tuple[object, ...]]) -> RecordedAuditEvent:
    values = row._mapping
    return RecordedAuditEvent(
        id=int(values["id"]),
        event=AuditEvent(
            action=AuditAction(values["action"]),
            user_id=values["user_id"],
            enrollment_id=values["enrollment_id"],
            occurred_at=values["occurred_at"],
            context=RequestContext(
                values["request_id"], values["client_address"], values["user_agent"]
            ),
            detail=values["detail"],
            actor=values["actor"],
            reason=values["reason"],
            ticket=values["ticket"],
        ),
    )
