"""AdminRevokeAuthenticator: a helpdesk agent removes one of a customer's authenticators."""

from __future__ import annotations

from uuid import UUID

from application.agent import AdminNote, Agent, AgentCheck, check_user_id
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.authenticator_removal import remove_or_revoke
from application.use_cases.list_authenticators import visible_to
from application.use_cases.show_user_factors import require_known


class AdminRevokeAuthenticator:
    """Revokes an active authenticator for good, or cancels a pending enrollment, of ``user_id``;
    audited with the agent, the reason and the ticket; the customer is told of a revocation.

    Raises:
        StepUpRequired: the agent's token shows no recent second factor.
        UserNotFound: the service holds nothing of the user.
        EnrollmentNotFound: no such current authenticator of this user.
        ConcurrentUpdate: it changed meanwhile; nothing was written.
    """

    def __init__(self, *, unit_of_work: UnitOfWorkFactory, clock: Clock, check: AgentCheck) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._check = check

    async def __call__(
        self,
        agent: Agent,
        user_id: str,
        enrollment_id: UUID,
        note: AdminNote,
        context: RequestContext,
    ) -> None:
        check_user_id(user_id)
        now = self._clock.now()
        self._check.require(agent, now)
        async with self._unit_of_work() as uow:
            await require_known(uow, user_id)
            enrollment = visible_to(await uow.enrollments.get(enrollment_id), user_id, now)
            revoked = await remove_or_revoke(uow, enrollment, now)
            action = AuditAction.ADMIN_REVOKED if revoked else AuditAction.ADMIN_CANCELLED
            await uow.audit.append(
                AuditEvent(
                    action,
                    user_id,
                    enrollment.id,
                    now,
                    context,
                    actor=agent.subject,
                    reason=note.reason,
                    ticket=note.ticket,
                )
            )
            await uow.commit()
