"""ExportAuditTrail: the audit trail for a SIEM, read in batches, never all at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

from application.agent import Agent
from application.audited_user import audited_user
from application.ports.audit import (
    AuditAction,
    AuditEvent,
    AuditQuery,
    RecordedAuditEvent,
    RequestContext,
)
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.read_audit_trail import check_query, position_of

BATCH_SIZE = 500


class ExportAuditTrail:
    """Every event matching the query, newest first, as batches of ``batch_size``: each batch is
    one short read (a keyset from where the previous one ended), so neither memory nor a database
    connection is held for the whole range. The first batch is read, and the export audited,
    before this returns (about a user filtered on: ``audited_user``): a failing store is reported
    before anything is sent. Events recorded
    after the export began are not in it, unless stamped earlier than the position reached (a
    replica's clock running behind).

    Raises:
        InvalidAdminRequest: ``since`` not before ``until``.
        DependencyUnavailable: the store is down (later batches raise it while iterating).
    """

    def __init__(
        self,
        *,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        pseudonym_key: bytes,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._pseudonym_key = pseudonym_key
        self._batch_size = batch_size

    async def __call__(
        self, agent: Agent, query: AuditQuery, context: RequestContext
    ) -> AsyncIterator[list[RecordedAuditEvent]]:
        check_query(query)
        async with self._unit_of_work() as uow:
            first = await uow.audit.page(query, None, self._batch_size)
            await uow.audit.append(
                AuditEvent(
                    AuditAction.ADMIN_EXPORTED_AUDIT,
                    await audited_user(uow, query.user_id, self._pseudonym_key),
                    None,
                    self._clock.now(),
                    context,
                    actor=agent.subject,
                )
            )
            await uow.commit()
        return self._batches(query, first)

    async def _batches(
        self, query: AuditQuery, batch: list[RecordedAuditEvent]
    ) -> AsyncIterator[list[RecordedAuditEvent]]:
        while batch:
            yield batch
            if len(batch) < self._batch_size:
                return
            async with self._unit_of_work() as uow:
                batch = await uow.audit.page(query, position_of(batch[-1]), self._batch_size)
