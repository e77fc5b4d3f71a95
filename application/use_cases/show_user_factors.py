"""ShowUserFactors: what the helpdesk sees of a customer's second factor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.agent import Agent, check_user_id
from application.errors import UserNotFound
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.enrollment import Enrollment


@dataclass(frozen=True, slots=True)
class UserFactors:
    """Metadata only: never a secret, a ciphertext or a code."""

    authenticators: list[Enrollment]
    failures: int
    locked_until: datetime | None
    recovery_codes_remaining: int
    recovery_codes_generated_at: datetime | None


async def require_known(uow: UnitOfWork, user_id: str) -> None:
    """Raises UserNotFound unless the service holds something of ``user_id``."""
    if not await uow.users.is_known(user_id):
        raise UserNotFound("no such user")


class ShowUserFactors:
    """The user's current authenticators (unexpired pending and active), lockout state and
    recovery codes left. The reading is audited with the agent as actor.

    Raises:
        UserNotFound: the service holds nothing of the user (never enrolled, or erased).
    """

    def __init__(self, *, unit_of_work: UnitOfWorkFactory, clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock

    async def __call__(self, agent: Agent, user_id: str, context: RequestContext) -> UserFactors:
        check_user_id(user_id)
        now = self._clock.now()
        async with self._unit_of_work() as uow:
            await require_known(uow, user_id)
            current = await uow.enrollments.current_for_user(user_id)
            throttle = await uow.users.throttle_of(user_id)
            remaining, generated_at = await uow.recovery_codes.remaining(user_id)
            await uow.audit.append(
                AuditEvent(
                    AuditAction.ADMIN_VIEWED_USER, user_id, None, now, context, actor=agent.subject
                )
            )
            await uow.commit()
        locked_until = throttle.locked_until if throttle is not None else None
        return UserFactors(
            authenticators=[e for e in current if not e.is_expired(now)],
            failures=throttle.failures if throttle is not None else 0,
            locked_until=locked_until if locked_until is not None and locked_until > now else None,
            recovery_codes_remaining=remaining,
            recovery_codes_generated_at=generated_at,
        )
