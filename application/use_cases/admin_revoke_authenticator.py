"""AdminRevokeAuthenticator: a helpdesk agent removes one of a customer's authenticators."""

from __future__ import annotations

from uuid import UUID

from application.agent import AdminNote, Agent
from application.ports.audit import RequestContext
from application.use_cases.admin_change import AdminChange
from application.use_cases.authenticator_removal import remove_or_revoke
from application.use_cases.list_authenticators import visible_to


class AdminRevokeAuthenticator(AdminChange):
    """Revokes an active authenticator for good, or cancels a pending enrollment, of ``user_id``;
    audited with the agent, the reason and the ticket; the customer is told of a revocation.

    Raises:
        StepUpRequired: the agent's token shows no recent second factor.
        UserNotFound: the service holds nothing of the user.
        EnrollmentNotFound: no such current authenticator of this user.
        ConcurrentUpdate: it changed meanwhile; nothing was written.
    """

    async def __call__(
        self,
        agent: Agent,
        user_id: str,
        enrollment_id: UUID,
        note: AdminNote,
        context: RequestContext,
    ) -> None:
        async with self._acting(agent, user_id, note, context) as (uow, now):
            enrollment = visible_to(await uow.enrollments.get(enrollment_id), user_id, now)
            await remove_or_revoke(uow, enrollment, now)
            await uow.commit()
