"""Requests of one user that race a confirmation (outside test): whichever commits first, the
outcome is one the requests could have had one after the other. A cancellation never revokes the
authenticator a confirmation made active meanwhile, and a start that asked no step-up asks it once
one is active. A confirmation that finds its enrollment cancelled is a 404 that counts no
attempt, and is audited as withdrawn, not as a dependency failure.

The other request runs at the worst moment: inside the first, between its read and its write."""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pyotp
import pytest

from adapters.local_cipher.cipher import LocalAesGcmCipher
from adapters.memory.clock import FrozenClock
from adapters.memory.store import (
    MemoryEnrollmentRepository,
    MemoryStore,
    MemoryUnitOfWork,
    MemoryUnitOfWorkFactory,
)
from adapters.pyotp.generator import PyotpGenerator
from adapters.segno.renderer import SegnoQrRenderer
from application.errors import ConcurrentUpdate, EnrollmentNotFound, StepUpRequired
from application.event_records import EventRecords
from application.ports.audit import AuditAction, RequestContext
from application.ports.qr_renderer import QrFormat
from application.ports.secret_cipher import SecretOwner
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.step_up import Authentication, StepUp, StepUpPolicy
from application.use_cases.confirm_enrollment import ConfirmEnrollment, ConfirmEnrollmentCommand
from application.use_cases.revoke_authenticator import RevokeAuthenticator
from application.use_cases.start_enrollment import (
    EnrollmentSettings,
    StartEnrollment,
    StartEnrollmentCommand,
)
from application.use_cases.verify_code import VerificationSettings, VerifyCode
from domain.enrollment import Enrollment, EnrollmentStatus
from domain.mfa_method import MfaMethod
from domain.policy import TotpPolicy
from domain.secret import TotpSecret

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CONTEXT = RequestContext(request_id="req-12345678", client_address="127.0.0.1", user_agent="t")
WITHOUT_STEP_UP = Authentication(auth_time=None)

Request = Callable[[], Awaitable[object]]


class _ReadThenRuns(MemoryEnrollmentRepository):
    """Enrollments whose first read is followed by ``then`` (another request)."""

    def __init__(self, store: MemoryStore, staged: Any, then: Request) -> None:
        super().__init__(store, staged)
        self._then: Request | None = then

    async def get(self, enrollment_id: UUID) -> Enrollment | None:
        found = await super().get(enrollment_id)
        then, self._then = self._then, None
        if then is not None:
            await then()
        return found


class _RunsAfterTheFirstRead(MemoryUnitOfWorkFactory):
    """Units of work over one store; after the next unit's first read of an enrollment, ``then``
    runs (another request), before that unit writes."""

    def __init__(self) -> None:
        super().__init__()
        self.then: Request | None = None

    def __call__(self) -> MemoryUnitOfWork:
        unit = super().__call__()
        then, self.then = self.then, None
        if then is not None:
            unit.enrollments = _ReadThenRuns(self.store, unit._staged, then)
        return unit


class _RunsBeforeCiphering(LocalAesGcmCipher):
    """Runs ``before`` (another request) when a secret is encrypted or decrypted: while a code is
    checked, or an enrollment started."""

    before: Request | None = None

    async def encrypt(self, secret: TotpSecret, owner: SecretOwner) -> str:
        before, self.before = self.before, None
        if before is not None:
            await before()
        return await super().encrypt(secret, owner)

    async def decrypt(self, sealed: str, owner: SecretOwner) -> TotpSecret:
        before, self.before = self.before, None
        if before is not None:
            await before()
        return await super().decrypt(sealed, owner)


class _Requests:
    def __init__(self) -> None:
        self.store = _RunsAfterTheFirstRead()
        self.cipher = _RunsBeforeCiphering({1: os.urandom(32)})
        units = RecordingUnitsOfWork(self.store, EventRecords())
        clock = FrozenClock(NOW)
        verify = VerifyCode(
            unit_of_work=units,
            cipher=self.cipher,
            generator=PyotpGenerator(),
            clock=clock,
            settings=VerificationSettings(),
        )
        self.confirm = ConfirmEnrollment(
            unit_of_work=units,
            cipher=self.cipher,
            generator=PyotpGenerator(),
            clock=clock,
            window=1,
        )
        step_up = StepUp(StepUpPolicy(), verify)
        self.revoke = RevokeAuthenticator(unit_of_work=units, clock=clock, step_up=step_up)
        self.start = StartEnrollment(
            unit_of_work=units,
            cipher=self.cipher,
            qr_renderer=SegnoQrRenderer(),
            clock=clock,
            settings=EnrollmentSettings("Example Bank", TotpPolicy(), timedelta(minutes=10)),
            step_up=step_up,
        )

    async def pending(self) -> tuple[Enrollment, str]:
        """A pending enrollment of alice's and its current code."""
        secret = TotpSecret.from_entropy(os.urandom(20))
        enrollment_id = uuid.uuid4()
        enrollment = Enrollment.start(
            enrollment_id=enrollment_id,
            user_id="alice",
            method=MfaMethod.TOTP,
            policy=TotpPolicy(),
            sealed_secret=await self.cipher.encrypt(secret, SecretOwner("alice", enrollment_id)),
            device_name=None,
            now=NOW,
            pending_ttl=timedelta(minutes=10),
        )
        self.store.store.enrollments[enrollment.id] = enrollment
        return enrollment, pyotp.TOTP(secret.base32).at(NOW)

    def audited(self) -> list[AuditAction]:
        return [event.action for event in self.store.store.audit_events]

    def failures_counted(self) -> int:
        throttle = self.store.store.throttles.get("alice")
        return throttle.failures if throttle else 0

    def confirming(self, enrollment: Enrollment, code: str) -> Request:
        return lambda: self.confirm(
            ConfirmEnrollmentCommand(
                user_id="alice", enrollment_id=enrollment.id, code=code, context=CONTEXT
            )
        )

    def cancelling(self, enrollment: Enrollment) -> Request:
        return lambda: self.revoke("alice", enrollment.id, WITHOUT_STEP_UP, CONTEXT)

    def starting(self, authentication: Authentication) -> Request:
        return lambda: self.start(
            StartEnrollmentCommand(
                user_id="alice",
                account_name="alice@example.com",
                mfa_method="totp",
                device_name=None,
                qr_format=QrFormat.SVG,
                context=CONTEXT,
                authentication=authentication,
            )
        )


async def test_a_cancellation_that_read_pending_never_revokes_what_a_confirmation_activated() -> (
    None
):
    requests = _Requests()
    enrollment, code = await requests.pending()
    requests.store.then = requests.confirming(enrollment, code)

    with pytest.raises(ConcurrentUpdate):  # 409: the removal found another version
        await requests.cancelling(enrollment)()

    assert requests.store.store.enrollments[enrollment.id].status is EnrollmentStatus.ACTIVE
    assert AuditAction.AUTHENTICATOR_REVOKED not in requests.audited()


async def test_a_confirmation_whose_enrollment_is_cancelled_meanwhile_is_404_and_counts_nothing() -> (
    None
):
    requests = _Requests()
    enrollment, code = await requests.pending()
    requests.cipher.before = requests.cancelling(enrollment)

    with pytest.raises(EnrollmentNotFound):
        await requests.confirming(enrollment, code)()

    assert enrollment.id not in requests.store.store.enrollments
    assert requests.failures_counted() == 0
    assert requests.audited()[-2:] == [
        AuditAction.ENROLLMENT_CANCELLED,
        AuditAction.CHECK_WITHDRAWN,
    ]


@pytest.mark.parametrize(
    ("authentication", "stored"),
    [(WITHOUT_STEP_UP, False), (Authentication(int(NOW.timestamp()), ("pwd", "otp")), True)],
    ids=["no step-up: 401", "a recent second factor: stored"],
)
async def test_a_start_that_asked_no_step_up_needs_it_once_a_confirmation_activated_one(
    authentication: Authentication, stored: bool
) -> None:
    """A user with no active authenticator starts without a step-up; a second one needs it."""
    requests = _Requests()
    enrollment, code = await requests.pending()
    requests.cipher.before = requests.confirming(enrollment, code)

    if stored:
        await requests.starting(authentication)()
    else:
        with pytest.raises(StepUpRequired):
            await requests.starting(authentication)()

    statuses = sorted(e.status for e in requests.store.store.enrollments.values())
    assert statuses == (
        [EnrollmentStatus.ACTIVE, EnrollmentStatus.PENDING] if stored else [EnrollmentStatus.ACTIVE]
    )
