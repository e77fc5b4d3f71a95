"""ShowPendingEnrollment: what StartEnrollment answered, again, for an idempotent retry."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from application.errors import EnrollmentNotFound
from application.otpauth_names import label_for
from application.ports.audit import RequestContext
from application.ports.clock import Clock
from application.ports.qr_renderer import DEFAULT_QR_SCALE, QrFormat, QrRenderer
from application.ports.secret_cipher import SecretCipher, SecretOwner
from application.ports.unit_of_work import UnitOfWorkFactory
from application.step_up import Authentication, StepUp
from application.use_cases.started_enrollment import StartedEnrollment
from domain.enrollment import EnrollmentStatus
from domain.errors import EnrollmentExpired, EnrollmentNotPending


class ShowPendingEnrollment:
    """Rebuilds the answer of an earlier StartEnrollment from the stored, encrypted row: the secret
    is decrypted again, never kept anywhere else. The retry is held to the start's rule on its own
    token: while the user has an active authenticator, showing the secret of another one needs a
    recent second factor (a retry with an old token and the first request's key gets no further
    than a start would). A code (``X-MFA-Code``) does not count for a retry: it is not checked, so
    it is neither used up twice nor counted as a failure; the client steps up or starts anew.

    Raises:
        EnrollmentNotFound: replaced, cancelled or another user's.
        EnrollmentNotPending: confirmed since (the secret is not shown any more).
        EnrollmentExpired: expired since.
        StepUpRequired: the user has an active authenticator and the retry's token shows no
            recent second factor.
        DependencyUnavailable: the cipher or the store is down.
    """

    def __init__(
        self,
        *,
        unit_of_work: UnitOfWorkFactory,
        cipher: SecretCipher,
        qr_renderer: QrRenderer,
        clock: Clock,
        issuer: str,
        step_up: StepUp,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._step_up = step_up
        self._cipher = cipher
        self._qr_renderer = qr_renderer
        self._clock = clock
        self._issuer = issuer

    async def __call__(
        self,
        user_id: str,
        enrollment_id: UUID,
        account_name: str,
        qr_format: QrFormat,
        qr_scale: int = DEFAULT_QR_SCALE,
        *,
        authentication: Authentication,
        context: RequestContext,
    ) -> StartedEnrollment:
        async with self._unit_of_work() as uow:
            enrollment = await uow.enrollments.get(enrollment_id)
            current = await uow.enrollments.current_for_user(user_id)
        if enrollment is None or enrollment.user_id != user_id:
            raise EnrollmentNotFound("the enrollment was replaced or cancelled")
        if enrollment.status is not EnrollmentStatus.PENDING:
            raise EnrollmentNotPending(
                "the enrollment was confirmed; its secret is not shown again"
            )
        now = self._clock.now()
        if enrollment.is_expired(now) or enrollment.expires_at is None:
            raise EnrollmentExpired("the enrollment expired")
        if any(other.status is EnrollmentStatus.ACTIVE for other in current):
            # Only the token can show it: a code sent again with the retry is the first request's,
            # whose time step that request used up, and checking it again would count a failure.
            without_code = replace(authentication, current_code=None)
            await self._step_up.require(
                user_id, without_code, has_active_authenticator=True, now=now, context=context
            )
        secret = await self._cipher.decrypt(
            enrollment.sealed_secret, SecretOwner(user_id, enrollment.id)
        )
        label = label_for(self._issuer, account_name, user_id, enrollment.policy)
        return StartedEnrollment.of(
            enrollment, secret, label, self._qr_renderer, qr_format, qr_scale
        )
