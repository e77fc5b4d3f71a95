"""AuditAdminReplay: a helpdesk change retried with the first request's Idempotency-Key."""

from __future__ import annotations

from application.agent import AdminNote, Agent, AgentCheck, change_allowed_at
from application.audited_user import audited_user
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory


class AuditAdminReplay:
    """The retry is answered from the stored answer and changes nothing again, but it is held to a
    change's rule on its own token (the agent's recent second factor) and audited, as every call
    is: ``admin.request_replayed``, with the agent, the reason and the ticket, about the user (their
    pseudonym once the service holds nothing of them).

    Raises:
        InvalidAdminRequest: the user id cannot be stored.
        StepUpRequired: the agent's token shows no recent second factor.
    """

    def __init__(
        self,
        *,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        check: AgentCheck,
        pseudonym_key: bytes,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._check = check
        self._pseudonym_key = pseudonym_key

    async def __call__(
        self, agent: Agent, user_id: str, note: AdminNote, context: RequestContext
    ) -> None:
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
