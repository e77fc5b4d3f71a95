"""RevokeAuthenticator: remove an authenticator (revoke an active one, cancel a pending one)."""

from __future__ import annotations

from uuid import UUID

from application.ports.audit import RequestContext
from application.ports.clock import Clock
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.step_up import Authentication, StepUp
from application.use_cases.authenticator_removal import remove_or_revoke
from application.use_cases.list_authenticators import visible_to
from domain.enrollment import EnrollmentStatus


class RevokeAuthenticator:
    """A pending enrollment is cancelled freely. An active authenticator is revoked for good, which
    needs a step-up (RFC 9470); its codes are never accepted again, and the row stays for the audit
    trail.

    Raises:
        EnrollmentNotFound: unknown, revoked, expired, or another user's.
        StepUpRequired: revoking an active one without recent second-factor authentication or a code.
        CodeRejected, LockedOut: the code sent for the step-up failed.
        ConcurrentUpdate: it changed meanwhile; nothing was written.
    """

    def __init__(
        self, *, unit_of_work: RecordingUnitsOfWork, clock: Clock, step_up: StepUp
    ) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._step_up = step_up

    async def __call__(
        self,
        user_id: str,
        enrollment_id: UUID,
        authentication: Authentication,
        context: RequestContext,
    ) -> None:
        now = self._clock.now()
        async with self._unit_of_work(context) as uow:
            # A pending one is cancelled in the unit that saw it pending: if a confirmation made
            # it active meanwhile, the removal finds another version and nothing is written.
            enrollment = visible_to(await uow.enrollments.get(enrollment_id), user_id, now)
            if enrollment.status is EnrollmentStatus.PENDING:
                await remove_or_revoke(uow, enrollment, now)
                await uow.commit()
                return
        await self._step_up.require(
            user_id, authentication, has_active_authenticator=True, now=now, context=context
        )
        async with self._unit_of_work(context) as uow:
            # Read again: a code sent for the step-up has just used up a step of this very row.
            enrollment = visible_to(await uow.enrollments.get(enrollment_id), user_id, now)
            await remove_or_revoke(uow, enrollment, now)
            await uow.commit()
