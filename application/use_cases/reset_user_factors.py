"""ResetUserFactors: a helpdesk agent clears a customer's second factor (a lost phone)."""

from __future__ import annotations

from dataclasses import dataclass

from application.agent import AdminNote, Agent, AgentCheck, check_user_id
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.clock import Clock
from application.ports.notifications import Notification, NotificationKind
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.show_user_factors import require_known
from domain.enrollment import EnrollmentStatus


@dataclass(frozen=True, slots=True)
class ResetReport:
    revoked: int
    pending_cancelled: int
    recovery_codes_voided: int


class ResetUserFactors:
    """Revokes every active authenticator, cancels a pending enrollment and voids the recovery
    codes, in one transaction; audited with the agent, the reason and the ticket; the customer is
    told. The customer can then enroll again from scratch.

    Raises:
        StepUpRequired: the agent's token shows no recent second factor.
        UserNotFound: the service holds nothing of the user.
        ConcurrentUpdate: an authenticator changed meanwhile; nothing was written.
    """

    def __init__(self, *, unit_of_work: UnitOfWorkFactory, clock: Clock, check: AgentCheck) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._check = check

    async def __call__(
        self, agent: Agent, user_id: str, note: AdminNote, context: RequestContext
    ) -> ResetReport:
        check_user_id(user_id)
        now = self._clock.now()
        self._check.require(agent, now)
        revoked = cancelled = 0
        async with self._unit_of_work() as uow:
            await require_known(uow, user_id)
            for enrollment in await uow.enrollments.current_for_user(user_id):
                if enrollment.status is EnrollmentStatus.PENDING:
                    await uow.enrollments.remove(enrollment)
                    cancelled += 1
                else:
                    enrollment.revoke(now)
                    await uow.enrollments.update(enrollment)
                    revoked += 1
            voided = await uow.recovery_codes.discard(user_id)
            await uow.outbox.add(Notification(NotificationKind.FACTORS_RESET, user_id, None, now))
            await uow.audit.append(
                AuditEvent(
                    AuditAction.ADMIN_RESET,
                    user_id,
                    None,
                    now,
                    context,
                    detail=f"revoked={revoked} cancelled={cancelled} codes={voided}",
                    actor=agent.subject,
                    reason=note.reason,
                    ticket=note.ticket,
                )
            )
            await uow.commit()
        return ResetReport(revoked, cancelled, voided)
