"""The audit trail's query and keyset order, over events held in memory."""

from __future__ import annotations

from collections.abc import Iterable

from application.ports.audit import AuditEvent, AuditPosition, AuditQuery, RecordedAuditEvent


def matches(event: AuditEvent, query: AuditQuery) -> bool:
    """Whether ``event`` passes every filter ``query`` sets (see AuditQuery)."""
    return (
        (query.user_id is None or event.user_id == query.user_id)
        and (query.action is None or event.action is query.action)
        and (
            query.actor is None
            or event.actor == query.actor
            or (event.actor is None and event.user_id == query.actor)
        )
        and (query.since is None or event.occurred_at >= query.since)
        and (query.until is None or event.occurred_at < query.until)
    )


def newest_first(
    events: Iterable[AuditEvent], query: AuditQuery, after: AuditPosition | None, limit: int
) -> list[RecordedAuditEvent]:
    """Up to ``limit`` matching events, ids counted from 1 in insertion order, newest first,
    strictly after ``after``."""
    found = [
        RecordedAuditEvent(number, event)
        for number, event in enumerate(events, start=1)
        if matches(event, query)
        and (after is None or (event.occurred_at, number) < (after.occurred_at, after.id))
    ]
    found.sort(key=lambda recorded: (recorded.event.occurred_at, recorded.id), reverse=True)
    return found[:limit]
