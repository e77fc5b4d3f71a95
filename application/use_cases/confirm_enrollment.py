"""ConfirmEnrollment: the first code from the app turns a pending enrollment active."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from uuid import UUID

from application.errors import (
    AuthenticatorParametersIgnored,
    ConcurrentUpdate,
    DeviceClockSkew,
    EnrollmentNotFound,
    TooManyAuthenticators,
)
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.clock import Clock
from application.ports.notifications import Notification, NotificationKind
from application.ports.otp_generator import OtpGenerator
from application.ports.secret_cipher import SecretCipher, SecretOwner
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.use_cases.attempts import AttemptGate
from application.use_cases.recovery_code_issuer import issue_recovery_codes
from domain.enrollment import CodeMatch, Enrollment, EnrollmentStatus
from domain.errors import EnrollmentExpired, EnrollmentNotPending, InvalidCodeFormat
from domain.otp_code import parse_code
from domain.policy import TotpPolicy
from domain.secret import TotpSecret

SKEW_REACH = 10
"""How many steps away a confirming code is looked for, to tell the user their clock is off."""


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
        EnrollmentNotFound: unknown, revoked, or another user's enrollment.
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
        unit_of_work: UnitOfWorkFactory,
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
        if match is not None and not match.replayed:
            try:
                return await self._activate(enrollment, match, command, now)
            except ConcurrentUpdate:
                pass  # another confirmation won with this very code: a replay
        rejected = await self._gate.fail(
            command.user_id,
            now,
            command.context,
            replayed=match is not None,
            enrollment_id=enrollment.id,
        )
        if match is None:
            self._diagnose(enrollment, secret, code, now, rejected.attempts_left)
        raise rejected

    def _parse(self, code: str, policy: TotpPolicy) -> str:
        """The code in the policy's form; or, for a policy most apps ignore, a 6-digit code, kept
        for the diagnosis that the app ignored the parameters."""
        try:
            return parse_code(code, policy.digits)
        except InvalidCodeFormat:
            if policy.is_widely_supported:
                raise
            return parse_code(code, TotpPolicy().digits)

    def _diagnose(
        self,
        enrollment: Enrollment,
        secret: TotpSecret,
        code: str,
        now: datetime,
        attempts_left: int,
    ) -> None:
        """Raises a more helpful rejection when the code tells why it failed."""
        policy = enrollment.policy
        if len(code) == policy.digits:
            generate = partial(self._generator.code_at, secret, policy)
            skew = enrollment.clock_skew_steps(code, now, generate, self._window, SKEW_REACH)
            if skew is not None:
                raise DeviceClockSkew(attempts_left, skew * policy.period)
        if not policy.is_widely_supported:
            default = TotpPolicy()
            step = default.time_step(now.timestamp())
            window = range(step - self._window, step + self._window + 1)
            if any(self._generator.code_at(secret, default, s) == code for s in window):
                raise AuthenticatorParametersIgnored(attempts_left)

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
        if enrollment.status is EnrollmentStatus.ACTIVE:
            raise EnrollmentNotPending("the enrollment is active already")
        if enrollment.is_expired(now):
            raise EnrollmentExpired("the enrollment expired; start a new one")
        return enrollment, self._parse(command.code, enrollment.policy)

    async def _activate(
        self,
        enrollment: Enrollment,
        match: CodeMatch,
        command: ConfirmEnrollmentCommand,
        now: datetime,
    ) -> ConfirmedEnrollment:
        async with self._unit_of_work() as uow:
            if len(await uow.enrollments.active_for_user(command.user_id)) >= self._max_active:
                raise TooManyAuthenticators("remove an authenticator before adding another")
            enrollment.confirm(match, now)
            await uow.enrollments.update(enrollment)
            await self._gate.succeed(uow, command.user_id)
            remaining, _ = await uow.recovery_codes.remaining(command.user_id)
            codes = None
            if remaining == 0:
                codes = await issue_recovery_codes(uow, command.user_id, now, command.context)
            await uow.outbox.add(
                Notification(
                    NotificationKind.AUTHENTICATOR_ADDED, command.user_id, enrollment.id, now
                )
            )
            await uow.audit.append(
                AuditEvent(
                    AuditAction.ENROLLMENT_CONFIRMED,
                    command.user_id,
                    enrollment.id,
                    now,
                    command.context,
                )
            )
            await uow.commit()
        return ConfirmedEnrollment(enrollment.id, now, codes)
