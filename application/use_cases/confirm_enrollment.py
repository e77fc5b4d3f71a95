"""ConfirmEnrollment: the first code from the app turns a pending enrollment active."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from uuid import UUID

from application.errors import (
    ConcurrentUpdate,
    EnrollmentNotFound,
    TooManyAuthenticators,
)
from application.ports.audit import RequestContext
from application.ports.clock import Clock
from application.ports.otp_generator import OtpGenerator
from application.ports.secret_cipher import SecretCipher, SecretOwner
from application.ports.unit_of_work import UnitOfWork
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.attempts import AttemptGate
from application.use_cases.first_code_diagnosis import FirstCodeDiagnosis, parse_first_code
from application.use_cases.recovery_code_issuer import issue_recovery_codes
from domain.enrollment import CodeMatch, Enrollment, EnrollmentStatus
from domain.errors import StepAlreadyUsed


@dataclass(frozen=True, slots=True)
class ConfirmEnrollmentCommand:
    user_id: str
    enrollment_id: UUID
    code: str = field(repr=False)
    context: RequestContext


@dataclass(frozen=True, slots=True)
class ConfirmedEnrollment:
    enrollment_id: UUID
    activated_at: datetime
    recovery_codes: list[str] | None = field(repr=False)
    """A new set, shown once, when the user had no unused recovery code."""


class ConfirmEnrollment:
    """Checks the first code of a pending enrollment and activates it.

    The attempt is reserved before the code is checked (SECURITY.md V5); the secret is decrypted
    outside any transaction; the activation is a version-checked update, so of concurrent
    confirmations exactly one succeeds (D3). The confirming code's step is used up (V2).

    Raises:
        EnrollmentNotFound: unknown, revoked, or another user's enrollment, or cancelled or
            replaced while its code was checked (then not counted).
        EnrollmentNotPending: it is active already.
        EnrollmentExpired: it passed its expiry.
        TooManyAuthenticators: the user reached the limit of active authenticators meanwhile.
        InvalidCodeFormat: not exactly N ASCII digits (not counted as an attempt).
        DeviceClockSkew: the code is the device's for 2 to 10 steps away (counted).
        AuthenticatorParametersIgnored: the code is the SHA1/6/30 one for a policy the app ignored.
        LockedOut: too many failures; nothing was checked.
        CodeRejected: wrong or replayed code (counted).
        DependencyUnavailable: the cipher or the store is down; nothing was counted or used.
    """

    def __init__(
        self,
        *,
        unit_of_work: RecordingUnitsOfWork,
        cipher: SecretCipher,
        generator: OtpGenerator,
        clock: Clock,
        window: int,
        max_active: int = 5,
        attempts: AttemptGate | None = None,
    ) -> None:
        self._max_active = max_active
        self._unit_of_work = unit_of_work
        self._cipher = cipher
        self._generator = generator
        self._clock = clock
        self._window = window
        self._gate = attempts or AttemptGate(unit_of_work)

    async def __call__(self, command: ConfirmEnrollmentCommand) -> ConfirmedEnrollment:
        now = self._clock.now()
        reservation = await self._gate.reserve(
            command.user_id, now, command.context, partial(self._load, command, now)
        )
        enrollment, code = reservation.loaded
        owner = SecretOwner(enrollment.user_id, enrollment.id)
        secret = await reservation.run(
            partial(self._cipher.decrypt, enrollment.sealed_secret, owner)
        )
        generate = partial(self._generator.code_at, secret, enrollment.policy)
        match = None
        if len(code) == enrollment.policy.digits:
            match = enrollment.match_code(code, now, generate, self._window)
        if match is not None:
            try:
                return await self._activate(enrollment, match, command, now)
            except StepAlreadyUsed:
                pass  # used already: a replay
            except ConcurrentUpdate:
                # Confirmed by another request meanwhile (a replay), or cancelled or replaced:
                # then there was nothing left to confirm, and the attempt is given back.
                if await self._cancelled_meanwhile(command):
                    await self._gate.withdraw(command.user_id, now, command.context)
                    raise EnrollmentNotFound("no such enrollment") from None
        rejected = await self._gate.fail(
            command.user_id,
            now,
            command.context,
            replayed=match is not None,
            enrollment_id=enrollment.id,
        )
        if match is None:
            diagnosis = FirstCodeDiagnosis(self._generator, self._window)
            diagnosis.raise_why(enrollment, secret, code, now, rejected.attempts_left)
        raise rejected

    async def _load(
        self, command: ConfirmEnrollmentCommand, now: datetime, uow: UnitOfWork
    ) -> tuple[Enrollment, str]:
        """The pending enrollment and the code in its form; raises when it cannot be confirmed."""
        enrollment = await uow.enrollments.get(command.enrollment_id)
        if (
            enrollment is None
            or enrollment.user_id != command.user_id
            or enrollment.status is EnrollmentStatus.REVOKED
        ):
            raise EnrollmentNotFound("no such enrollment")
        enrollment.ensure_confirmable(now)
        return enrollment, parse_first_code(command.code, enrollment.policy)

    async def _cancelled_meanwhile(self, command: ConfirmEnrollmentCommand) -> bool:
        async with self._unit_of_work() as uow:
            enrollment = await uow.enrollments.get(command.enrollment_id)
        return enrollment is None or enrollment.status is EnrollmentStatus.REVOKED

    async def _activate(
        self,
        enrollment: Enrollment,
        match: CodeMatch,
        command: ConfirmEnrollmentCommand,
        now: datetime,
    ) -> ConfirmedEnrollment:
        async with self._unit_of_work(command.context) as uow:
            # The user's enrollment lock, which a start takes to store: a start that asked no
            # step-up, having counted no active authenticator, then either stored first (and
            # replaced this pending one: 404 below) or counts this one active and asks it.
            await uow.enrollments.lock_user(command.user_id)
            if len(await uow.enrollments.active_for_user(command.user_id)) >= self._max_active:
                raise TooManyAuthenticators("remove an authenticator before adding another")
            enrollment.confirm(match, now)
            await uow.enrollments.update(enrollment)
            await self._gate.succeed(uow, command.user_id)
            remaining, _ = await uow.recovery_codes.remaining(command.user_id)
            codes = None
            if remaining == 0:
                codes = await issue_recovery_codes(uow, command.user_id, now, command.context)
            await uow.commit()
        return ConfirmedEnrollment(enrollment.id, now, codes)
