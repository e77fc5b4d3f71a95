"""The audit trail for the helpdesk and compliance: pages, and a JSON Lines export for a SIEM."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Stream

from application.ports.audit import AuditAction, AuditQuery, RecordedAuditEvent
from application.ports.token_verifier import Principal
from application.use_cases.export_audit_trail import ExportAuditTrail
from application.use_cases.read_audit_trail import MAX_PAGE_SIZE, ReadAuditTrail
from entrypoints.audit_cursor import MAX_CURSOR_CHARACTERS, decode_cursor, encode_cursor
from entrypoints.http.admin_access import agent_of
from entrypoints.http.admin_answers import audit_event_response
from entrypoints.http.admin_schemas import AuditPageResponse
from entrypoints.http.dependencies import use_case
from entrypoints.http.openapi_responses import problem_responses
from entrypoints.http.request_context import request_context

AuthenticatedRequest = Request[Principal, None, Any]
JSON_LINES = "application/jsonl"

UserIdFilter = Annotated[
    str | None,
    QueryParameter(name="userId", min_length=1, max_length=255, description="Events of this user."),
]
ActionFilter = Annotated[
    AuditAction | None, QueryParameter(name="action", description="Events of this kind.")
]
ActorFilter = Annotated[
    str | None,
    QueryParameter(
        name="actor",
        min_length=1,
        max_length=255,
        description="Events by this agent (or by this user, for their own actions).",
    ),
]
Since = Annotated[
    datetime | None,
    QueryParameter(name="since", description="RFC 3339 time with offset; events at or after it."),
]
Until = Annotated[
    datetime | None,
    QueryParameter(name="until", description="RFC 3339 time with offset; events before it."),
]


def _query(
    user_id: str | None,
    action: AuditAction | None,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
) -> AuditQuery:
    return AuditQuery(user_id=user_id, action=action, actor=actor, since=since, until=until)


class AdminAuditController(Controller):
    """Under the admin router, which holds the tag, the security scheme and the scope guard."""

    path = "/audit"
    dependencies = {
        "read_audit_trail": use_case(lambda services: services.admin.read_audit_trail),
        "export_audit_trail": use_case(lambda services: services.admin.export_audit_trail),
    }

    @get(
        summary="The audit trail, newest first",
        description="One page of events matching every filter given. The answer's cursor, passed "
        "back as ?cursor=, gives the next page; events recorded meanwhile never shift a page. "
        "The reading is audited with the agent as actor.",
        responses=problem_responses(400),
    )
    async def read_audit_trail(
        self,
        request: AuthenticatedRequest,
        read_audit_trail: NamedDependency[ReadAuditTrail],
        user_id: UserIdFilter = None,
        action: ActionFilter = None,
        actor: ActorFilter = None,
        since: Since = None,
        until: Until = None,
        limit: Annotated[
            int, QueryParameter(name="limit", ge=1, le=MAX_PAGE_SIZE, description="Page size.")
        ] = 50,
        cursor: Annotated[
            str | None,
            QueryParameter(
                name="cursor",
                min_length=1,
                max_length=MAX_CURSOR_CHARACTERS,
                description="The cursor of the previous answer.",
            ),
        ] = None,
    ) -> AuditPageResponse:
        query = _query(user_id, action, actor, since, until)
        after = decode_cursor(cursor) if cursor is not None else None
        page = await read_audit_trail(
            agent_of(request), query, after, limit, request_context(request)
        )
        return AuditPageResponse(
            events=[audit_event_response(recorded) for recorded in page.events],
            cursor=encode_cursor(page.next) if page.next is not None else None,
        )

    @get(
        "/export",
        summary="The audit trail as JSON Lines, for a SIEM",
        description="Every event matching the filters, newest first, one JSON object a line (the "
        "fields of /admin/audit's events), streamed as it is read in batches. A failure after the "
        "first line ends the stream early, without its last chunk. The export is audited.",
        response_description="JSON Lines (application/jsonl)",
        media_type=JSON_LINES,
        responses=problem_responses(400),
    )
    async def export_audit_trail(
        self,
        request: AuthenticatedRequest,
        export_audit_trail: NamedDependency[ExportAuditTrail],
        user_id: UserIdFilter = None,
        action: ActionFilter = None,
        actor: ActorFilter = None,
        since: Since = None,
        until: Until = None,
    ) -> Stream:
        batches = await export_audit_trail(
            agent_of(request),
            _query(user_id, action, actor, since, until),
            request_context(request),
        )
        return Stream(_json_lines(batches), media_type=JSON_LINES)


async def _json_lines(batches: AsyncIterator[list[RecordedAuditEvent]]) -> AsyncIterator[bytes]:
    encoder = msgspec.json.Encoder()
    async for batch in batches:
        yield b"".join(encoder.encode(audit_event_response(recorded)) + b"\n" for recorded in batch)
