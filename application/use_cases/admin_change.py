"""What every change a helpdesk agent makes to a customer's factors begins with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from application.agent import AdminNote, Agent, AgentCheck, change_allowed_at
from application.audited_user import audited_user
from application.event_records import Acting
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.clock import Clock
from application.recording_unit_of_work import RecordingUnitOfWork, RecordingUnitsOfWork
from application.use_cases.show_user_factors import require_known


class AdminChange:
    """A use case in which an agent changes a customer's factors: its unit of work records every
    event with the agent as actor and their reason and ticket."""

    def __init__(
        self,
        *,
        unit_of_work: RecordingUnitsOfWork,
        clock: Clock,
        check: AgentCheck,
        pseudonym_key: bytes,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._check = check
        self._pseudonym_key = pseudonym_key

    async def audit_replay(
        self, agent: Agent, user_id: str, note: AdminNote, context: RequestContext
    ) -> None:
        """For a retry of the change with the first request's Idempotency-Key, which is answered
        from the stored answer and changes nothing again: the retry is held to the change's rule
        on its own token and audited, as every call is (``admin.request_replayed``, about the
        user, or their pseudonym once the service holds nothing of them).

        Raises:
            InvalidAdminRequest: the user id cannot be stored.
            StepUpRequired: the agent's token shows no recent second factor.
        """
        now = change_allowed_at(self._check, self._clock, agent, user_id)
        async with self._unit_of_work() as uow:
            await uow.audit.append(
                AuditEvent(
                    AuditAction.ADMIN_REPLAYED,
                    await audited_user(uow, user_id, self._pseudonym_key),
                    None,
                    now,
                    context,
                    actor=agent.subject,
                    reason=note.reason,
                    ticket=note.ticket,
                )
            )
            await uow.commit()

    @asynccontextmanager
    async def _acting(
        self, agent: Agent, user_id: str, note: AdminNote, context: RequestContext
    ) -> AsyncIterator[tuple[RecordingUnitOfWork, datetime]]:
        """The unit of work and the time of the change, once the agent may make it.

        Raises:
            InvalidAdminRequest: the user id cannot be stored.
            StepUpRequired: the agent's token shows no recent second factor.
            UserNotFound: the service holds nothing of the user.
        """
        now = change_allowed_at(self._check, self._clock, agent, user_id)
        acting = Acting(context, agent.subject, note.reason, note.ticket)
        async with self._unit_of_work(acting) as uow:
            await require_known(uow, user_id)
            yield uow, now
