"""UnlockUser: a helpdesk agent lifts a customer's lockout."""

from __future__ import annotations

from application.agent import AdminNote, Agent
from application.ports.audit import RequestContext
from application.use_cases.admin_change import AdminChange


class UnlockUser(AdminChange):
    """Clears the failure count and any block of the user's throttle (the back-off level stays:
    see ``AttemptThrottle.lift``). Audited every time with the agent, the reason and the ticket;
    the customer is told when there was something to lift. Returns whether there was.

    Raises:
        StepUpRequired: the agent's token shows no recent second factor.
        UserNotFound: the service holds nothing of the user.
        ConcurrentUpdate: a check changed the throttle meanwhile; nothing was written.
    """

    async def __call__(
        self, agent: Agent, user_id: str, note: AdminNote, context: RequestContext
    ) -> bool:
        async with self._acting(agent, user_id, note, context) as (uow, now):
            throttle = await uow.throttles.lock(user_id)
            lifted = throttle.lift(now)
            if lifted:
                await uow.throttles.save(throttle)
            await uow.commit()
        return lifted
