"""ReadAuditTrail: one page of the audit trail for the helpdesk and compliance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from application.agent import Agent, check_user_id
from application.audited_user import audited_user
from application.errors import InvalidAdminRequest
from application.ports.audit import (
    AuditAction,
    AuditEvent,
    AuditPosition,
    AuditQuery,
    RecordedAuditEvent,
    RequestContext,
)
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory

MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class AuditPage:
    events: list[RecordedAuditEvent]
    next: AuditPosition | None
    """Where the next page starts; None on the last page."""


def check_query(query: AuditQuery) -> None:
    """Raises InvalidAdminRequest for a time without an offset or outside years 1 to 9999 in UTC,
    a time range the wrong way round (or empty), or a user or actor the stores cannot hold."""
    if query.user_id is not None:
        check_user_id(query.user_id)
    if query.actor is not None:
        check_user_id(query.actor, "actor")
    _check_moment(query.since, "since")
    _check_moment(query.until, "until")
    if query.since is not None and query.until is not None and query.since >= query.until:
        raise InvalidAdminRequest("since must be earlier than until", "since")


def _check_moment(moment: datetime | None, name: str) -> None:
    if moment is None:
        return
    if moment.tzinfo is None:
        raise InvalidAdminRequest(f"{name} needs a time zone offset (e.g. Z)", name)
    try:
        moment.astimezone(UTC)  # as the stores keep it
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise InvalidAdminRequest(
            f"{name} must fall within the years 1 to 9999 in UTC", name
        ) from None


def position_of(recorded: RecordedAuditEvent) -> AuditPosition:
    return AuditPosition(recorded.event.occurred_at, recorded.id)


class ReadAuditTrail:
    """Up to ``limit`` events matching the query, newest first, from ``after`` on (keyset
    pagination: events recorded meanwhile never shift a page). The reading is audited, after it
    is read, with the agent as actor (about a user filtered on: ``audited_user``).

    Raises:
        InvalidAdminRequest: ``limit`` outside 1 to 200, or ``since`` not before ``until``.
    """

    def __init__(
        self, *, unit_of_work: UnitOfWorkFactory, clock: Clock, pseudonym_key: bytes
    ) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._pseudonym_key = pseudonym_key

    async def __call__(
        self,
        agent: Agent,
        query: AuditQuery,
        after: AuditPosition | None,
        limit: int,
        context: RequestContext,
    ) -> AuditPage:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidAdminRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}", "limit")
        check_query(query)
        now = self._clock.now()
        async with self._unit_of_work() as uow:
            found = await uow.audit.page(query, after, limit + 1)
            await uow.audit.append(
                AuditEvent(
                    AuditAction.ADMIN_READ_AUDIT,
                    await audited_user(uow, query.user_id, self._pseudonym_key),
                    None,
                    now,
                    context,
                    actor=agent.subject,
                )
            )
            await uow.commit()
        events = found[:limit]
        more = len(found) > limit
        return AuditPage(events, position_of(events[-1]) if more else None)
