"""ResetUserFactors: a helpdesk agent clears a customer's second factor (a lost phone)."""

from __future__ import annotations

from dataclasses import dataclass

from application.agent import AdminNote, Agent
from application.ports.audit import RequestContext
from application.use_cases.admin_change import AdminChange
from application.use_cases.authenticator_removal import remove_or_revoke
from domain.enrollment import EnrollmentStatus
from domain.events import FactorsReset


@dataclass(frozen=True, slots=True)
class ResetReport:
    revoked: int
    pending_cancelled: int
    recovery_codes_voided: int


class ResetUserFactors(AdminChange):
    """Revokes every active authenticator, cancels a pending enrollment and voids the recovery
    codes, in one transaction; audited with the agent, the reason and the ticket; the customer is
    told. The customer can then enroll again from scratch.

    Raises:
        StepUpRequired: the agent's token shows no recent second factor.
        UserNotFound: the service holds nothing of the user.
        ConcurrentUpdate: an authenticator changed meanwhile; nothing was written.
    """

    async def __call__(
        self, agent: Agent, user_id: str, note: AdminNote, context: RequestContext
    ) -> ResetReport:
        async with self._acting(agent, user_id, note, context) as (uow, now):
            current = await uow.enrollments.current_for_user(user_id)
            cancelled = sum(1 for e in current if e.status is EnrollmentStatus.PENDING)
            for enrollment in current:
                await remove_or_revoke(uow, enrollment, now)
            voided = await uow.recovery_codes.discard(user_id)
            reset = FactorsReset(user_id, now, len(current) - cancelled, cancelled, voided)
            uow.record(reset)
            await uow.commit()
        return ResetReport(reset.revoked, reset.cancelled, reset.voided)
