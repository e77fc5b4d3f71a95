"""StartEnrollment: create a pending authenticator-app secret for the signed-in user."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from application.enrollment_limits import EnrollmentLimits
from application.errors import ActivatedMeanwhile
from application.otpauth_names import label_for
from application.ports.audit import RequestContext
from application.ports.clock import Clock
from application.ports.enrollment_starts import EnrollmentStarts
from application.ports.qr_renderer import DEFAULT_QR_SCALE, QrFormat, QrRenderer
from application.ports.secret_cipher import SecretCipher, SecretOwner
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.step_up import Authentication, StepUp
from application.use_cases.enrollment_starts import TransactionalEnrollmentStarts
from application.use_cases.started_enrollment import StartedEnrollment
from domain.enrollment import Enrollment
from domain.mfa_method import MfaMethod
from domain.policy import TotpPolicy
from domain.secret import SECRET_BYTES, TotpSecret


@dataclass(frozen=True, slots=True)
class EnrollmentSettings:
    """Deployment choices for new enrollments."""

    issuer: str
    policy: TotpPolicy
    pending_ttl: timedelta
    max_active: int = 5
    max_starts_per_hour: int = 10

    @property
    def limits(self) -> EnrollmentLimits:
        return EnrollmentLimits(self.max_active, self.max_starts_per_hour)


@dataclass(frozen=True, slots=True)
class StartEnrollmentCommand:
    user_id: str
    account_name: str
    mfa_method: str
    device_name: str | None
    qr_format: QrFormat
    context: RequestContext
    qr_scale: int = DEFAULT_QR_SCALE
    authentication: Authentication = field(default_factory=lambda: Authentication(None))


class StartEnrollment:
    """Creates a pending enrollment with a fresh secret and returns it with its URI and QR code.

    Order (SECURITY.md D1): generate, encrypt, render, then store and commit; the secret leaves only
    after the commit, so any failure before it returns no secret and leaves no row. A user's earlier
    pending enrollment is replaced in the same transaction, so its secret stops working. A user who
    has an active authenticator needs a step-up to add another (RFC 9470); the old one stays valid
    until the new one is confirmed. The store's part is ``EnrollmentStarts``: the room read before
    the step-up, and the start stored with the limits checked again under the user's lock.

    Raises:
        UnsupportedMfaMethod: the method is not on the allow-list.
        InvalidDeviceName: the device name is not 1 to 64 printable characters.
        EnrollmentRateLimited: the user started ``max_starts_per_hour`` enrollments in the last hour.
        TooManyAuthenticators: the user holds ``max_active`` active authenticators.
        StepUpRequired: the user has an active authenticator (one confirmed while this start ran
            included) and the request shows no recent second-factor authentication or current
            code.
        DependencyUnavailable: the cipher or the store is down; nothing was stored.
        ConcurrentUpdate: another enrollment of the same user was committed at the same moment.
    """

    def __init__(
        self,
        *,
        unit_of_work: RecordingUnitsOfWork,
        cipher: SecretCipher,
        qr_renderer: QrRenderer,
        clock: Clock,
        settings: EnrollmentSettings,
        step_up: StepUp,
        starts: EnrollmentStarts | None = None,
    ) -> None:
        self._step_up = step_up
        self._starts = starts or TransactionalEnrollmentStarts(unit_of_work)
        self._cipher = cipher
        self._qr_renderer = qr_renderer
        self._clock = clock
        self._settings = settings

    async def __call__(self, command: StartEnrollmentCommand) -> StartedEnrollment:
        method = MfaMethod.parse(command.mfa_method)
        policy, limits = self._settings.policy, self._settings.limits
        label = label_for(self._settings.issuer, command.account_name, command.user_id, policy)
        now = self._clock.now()
        # Checked before the step-up, so these refusals come first; checked again by ``store``.
        stepped_up = bool(await self._starts.room(command.user_id, now, limits))
        if stepped_up:
            await self._step_up_for(command, now)
        enrollment_id = uuid.uuid4()
        secret = TotpSecret.from_entropy(secrets.token_bytes(SECRET_BYTES))
        enrollment = Enrollment.start(
            enrollment_id=enrollment_id,
            user_id=command.user_id,
            method=method,
            policy=policy,
            sealed_secret=await self._cipher.encrypt(
                secret, SecretOwner(command.user_id, enrollment_id)
            ),
            device_name=command.device_name,
            now=now,
            pending_ttl=self._settings.pending_ttl,
        )
        started = StartedEnrollment.of(
            enrollment, secret, label, self._qr_renderer, command.qr_format, command.qr_scale
        )
        try:
            await self._starts.store(
                enrollment,
                limits if stepped_up else replace(limits, without_step_up=True),
                command.context,
            )
        except ActivatedMeanwhile:
            # A confirmation committed since the room was counted: as if it had come first.
            await self._step_up_for(command, now)
            await self._starts.store(enrollment, limits, command.context)
        return started

    async def _step_up_for(self, command: StartEnrollmentCommand, now: datetime) -> None:
        """A second authenticator needs a recent second factor, or a code of an active one."""
        await self._step_up.require(
            command.user_id,
            command.authentication,
            has_active_authenticator=True,
            now=now,
            context=command.context,
        )
