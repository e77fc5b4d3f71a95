"""VerifyCode: check a code from the app, or a recovery code, at sign-in or before a sensitive action."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, auto
from functools import partial
from uuid import UUID

from application.errors import (
    ConcurrentUpdate,
    NoActiveAuthenticator,
)
from application.ports.audit import RequestContext
from application.ports.clock import Clock
from application.ports.code_acceptance import CodeAcceptance
from application.ports.otp_generator import OtpGenerator
from application.ports.secret_cipher import SecretCipher, SecretOwner
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.attempts import AttemptGate
from application.use_cases.code_acceptance import TransactionalCodeAcceptance
from application.use_cases.code_forms import checkable_lengths, parse_for_any
from domain.enrollment import CodeMatch, Enrollment
from domain.errors import StepAlreadyUsed
from domain.recovery_codes import hash_recovery_code
from domain.secret import TotpSecret


@dataclass(frozen=True, slots=True)
class VerifyCommand:
    """Exactly one of ``code`` and ``recovery_code``."""

    user_id: str
    code: str | None = field(repr=False)
    recovery_code: str | None = field(repr=False)
    context: RequestContext


class VerifiedWith(Enum):
    """What the user proved their second factor with."""

    AUTHENTICATOR_CODE = auto()
    RECOVERY_CODE = auto()


@dataclass(frozen=True, slots=True)
class Verified:
    method: VerifiedWith
    enrollment_id: UUID | None
    """The authenticator whose code matched (None for a recovery code)."""
    verified_at: datetime
    recovery_codes_remaining: int


@dataclass(frozen=True, slots=True)
class VerificationSettings:
    window: int = 1
    """Steps accepted either side of the current one (RFC 6238 section 5.2 recommends one)."""
    max_drift: int = 0
    """How far, in steps, a device's clock may be learned to run off (RFC 6238 section 6); the
    window then centres on the device's clock. 0: it stays on the server's (API.md)."""


class VerifyCode:
    """Checks a code against every active authenticator of the user, or a recovery code.

    A code is accepted once only across all replicas (one conditional UPDATE of the last used step,
    SECURITY.md V2); a recovery code is used up the same way (V6). Every check passes the user's
    attempt gate (V5); a dependency failure leaves the count and the steps as they were (V7).

    Raises:
        NoActiveAuthenticator: the user has no active authenticator.
        InvalidCodeFormat: the code is not in the form the app or the recovery sheet shows.
        LockedOut: too many failures; nothing was checked.
        CodeRejected: wrong or replayed (the same answer for both).
        DependencyUnavailable: the cipher or the store is down.
    """

    def __init__(
        self,
        *,
        unit_of_work: RecordingUnitsOfWork,
        cipher: SecretCipher,
        generator: OtpGenerator,
        clock: Clock,
        settings: VerificationSettings,
        attempts: AttemptGate | None = None,
        acceptance: CodeAcceptance | None = None,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._cipher = cipher
        self._generator = generator
        self._clock = clock
        self._settings = settings
        self._gate = attempts or AttemptGate(unit_of_work)
        self._acceptance = acceptance or TransactionalCodeAcceptance(unit_of_work)

    async def __call__(self, command: VerifyCommand) -> Verified:
        now = self._clock.now()
        digits = checkable_lengths(command.user_id, command.code, command.recovery_code)
        reservation = await self._gate.reserve_check(
            command.user_id, now, command.context, digits, partial(self._checked, command)
        )
        authenticators = reservation.loaded
        checked = self._checked(command, authenticators)
        if command.recovery_code is not None:
            return await self._use_recovery_code(command, checked, now)
        secrets = await reservation.run(partial(self._decrypt_all, authenticators))
        matches = [
            (authenticator, self._match(authenticator, secret, checked, now))
            for authenticator, secret in zip(authenticators, secrets, strict=True)
        ]
        for authenticator, match in matches:
            if match is not None:
                with contextlib.suppress(StepAlreadyUsed, ConcurrentUpdate):  # a replay
                    return await self._accept(authenticator, match, command, now)
        replayed = next((a for a, m in matches if m is not None), None)
        raise await self._gate.fail(
            command.user_id,
            now,
            command.context,
            replayed=replayed is not None,
            enrollment_id=replayed.id if replayed else None,
        )

    def _checked(self, command: VerifyCommand, authenticators: list[Enrollment]) -> str:
        """The code in the authenticators' form or the recovery code's stored form; raises when
        the request cannot be checked."""
        if not authenticators:
            raise NoActiveAuthenticator("no active authenticator")
        if command.recovery_code is not None:
            return hash_recovery_code(command.user_id, command.recovery_code)
        return parse_for_any(command.code or "", authenticators)

    async def _decrypt_all(self, authenticators: list[Enrollment]) -> list[TotpSecret]:
        return list(
            await asyncio.gather(
                *(
                    self._cipher.decrypt(a.sealed_secret, SecretOwner(a.user_id, a.id))
                    for a in authenticators
                )
            )
        )

    def _match(
        self, authenticator: Enrollment, secret: TotpSecret, code: str, now: datetime
    ) -> CodeMatch | None:
        if len(code) != authenticator.policy.digits:
            return None
        generate = partial(self._generator.code_at, secret, authenticator.policy)
        return authenticator.match_code(
            code, now, generate, self._settings.window, self._settings.max_drift
        )

    async def _accept(
        self, authenticator: Enrollment, match: CodeMatch, command: VerifyCommand, now: datetime
    ) -> Verified:
        authenticator.record_use(match, now, self._settings.max_drift)
        remaining = await self._acceptance.accept(authenticator, command.context)
        return Verified(VerifiedWith.AUTHENTICATOR_CODE, authenticator.id, now, remaining)

    async def _use_recovery_code(
        self, command: VerifyCommand, code_hash: str, now: datetime
    ) -> Verified:
        async with self._unit_of_work(command.context) as uow:
            if await uow.recovery_codes.consume(command.user_id, code_hash, now):
                throttle = await uow.throttles.lock(command.user_id)
                throttle.accept_recovery_code(now)
                await uow.throttles.save(throttle)
                remaining, _ = await uow.recovery_codes.remaining(command.user_id)
                await uow.commit()
                return Verified(VerifiedWith.RECOVERY_CODE, None, now, remaining)
        raise await self._gate.fail(
            command.user_id, now, command.context, replayed=False, enrollment_id=None
        )
