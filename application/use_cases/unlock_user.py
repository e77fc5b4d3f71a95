"""UnlockUser: a helpdesk agent lifts a customer's lockout."""

from __future__ import annotations

from application.agent import AdminNote, Agent, AgentCheck, check_user_id
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.clock import Clock
from application.ports.notifications import Notification, NotificationKind
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.show_user_factors import require_known


class UnlockUser:
    """Clears the failure count and any block of the user's throttle (the back-off level stays:
    see ``AttemptThrottle.lift``). Audited every time with the agent, the reason and the ticket;
    the customer is told when there was something to lift. Returns whether there was.

    Raises:
        StepUpRequired: the agent's token shows no recent second factor.
        UserNotFound: the service holds nothing of the user.
        ConcurrentUpdate: a check changed the throttle meanwhile; nothing was written.
    """

    def __init__(self, *, unit_of_work: UnitOfWorkFactory, clock: Clock, check: AgentCheck) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._check = check

    async def __call__(
        self, agent: Agent, user_id: str, note: AdminNote, context: RequestContext
    ) -> bool:
        check_user_id(user_id)
        now = self._clock.now()
        self._check.require(agent, now)
        async with self._unit_of_work() as uow:
            await require_known(uow, user_id)
            throttle = await uow.throttles.lock(user_id)
            lifted = throttle.is_locked_or_counting
            if lifted:
                throttle.lift()
                await uow.throttles.save(throttle)
                await uow.outbox.add(Notification(NotificationKind.UNLOCKED, user_id, None, now))
            await uow.audit.append(
                AuditEvent(
                    AuditAction.ADMIN_UNLOCKED,
                    user_id,
                    None,
                    now,
                    context,
                    detail="lifted" if lifted else "nothing to lift",
                    actor=agent.subject,
                    reason=note.reason,
                    ticket=note.ticket,
                )
            )
            await uow.commit()
        return lifted
