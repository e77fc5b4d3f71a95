"""RegenerateRecoveryCodes: a new set of recovery codes; the earlier set stops working."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from application.errors import NoActiveAuthenticator
from application.ports.audit import RequestContext
from application.ports.clock import Clock
from application.ports.notifications import Notification, NotificationKind
from application.ports.unit_of_work import UnitOfWorkFactory
from application.step_up import Authentication, StepUp
from application.use_cases.recovery_code_issuer import issue_recovery_codes


@dataclass(frozen=True, slots=True)
class RecoveryCodeSet:
    codes: list[str] = field(repr=False)
    generated_at: datetime


class RegenerateRecoveryCodes:
    """Issues ten new codes, shown once, for a user with an active authenticator, after a step-up.

    Raises:
        NoActiveAuthenticator: recovery codes back up an authenticator; the user has none.
        StepUpRequired: no recent second-factor authentication or current code (RFC 9470).
        DependencyUnavailable: the store is down; the earlier set still works.
    """

    def __init__(self, *, unit_of_work: UnitOfWorkFactory, clock: Clock, step_up: StepUp) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._step_up = step_up

    async def __call__(
        self, user_id: str, authentication: Authentication, context: RequestContext
    ) -> RecoveryCodeSet:
        now = self._clock.now()
        async with self._unit_of_work() as uow:
            has_active = bool(await uow.enrollments.active_for_user(user_id))
        if not has_active:
            raise NoActiveAuthenticator("no active authenticator")
        await self._step_up.require(
            user_id, authentication, has_active_authenticator=True, now=now, context=context
        )
        async with self._unit_of_work() as uow:
            codes = await issue_recovery_codes(uow, user_id, now, context)
            await uow.outbox.add(
                Notification(NotificationKind.RECOVERY_CODES_REGENERATED, user_id, None, now)
            )
            await uow.commit()
        return RecoveryCodeSet(codes, now)


@dataclass(frozen=True, slots=True)
class RecoveryCodeStatus:
    remaining: int
    generated_at: datetime | None


class GetRecoveryCodeStatus:
    """How many unused recovery codes the user has, and when they were generated."""

    def __init__(self, *, unit_of_work: UnitOfWorkFactory) -> None:
        self._unit_of_work = unit_of_work

    async def __call__(self, user_id: str) -> RecoveryCodeStatus:
        async with self._unit_of_work() as uow:
            remaining, generated_at = await uow.recovery_codes.remaining(user_id)
        return RecoveryCodeStatus(remaining, generated_at)
