"""``EnrollmentRepository.lock_user`` on every store, as StartEnrollment relies on it: starts of one
user at the same moment cannot together pass the per-user limits, since the room check and the
write are one transaction under the user's enrollment lock."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

from adapters.local_cipher.cipher import LocalAesGcmCipher
from adapters.memory.clock import FrozenClock
from adapters.pyotp.generator import PyotpGenerator
from adapters.segno.renderer import SegnoQrRenderer
from application.errors import EnrollmentRateLimited
from application.event_records import EventRecords
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.qr_renderer import QrFormat
from application.ports.secret_cipher import SecretOwner
from application.ports.unit_of_work import UnitOfWorkFactory
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.step_up import StepUp, StepUpPolicy
from application.use_cases.start_enrollment import (
    EnrollmentSettings,
    StartEnrollment,
    StartEnrollmentCommand,
)
from application.use_cases.verify_code import VerificationSettings, VerifyCode
from domain.policy import TotpPolicy
from domain.secret import TotpSecret

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CONTEXT = RequestContext("request-1", "192.0.2.7", "pytest")
MAX_STARTS = 10
AT_ONCE = 6


class YieldingCipher(LocalAesGcmCipher):
    """Lets the other starts run between one start's early check and its write, as a remote
    cipher does."""

    async def encrypt(self, secret: TotpSecret, owner: SecretOwner) -> str:
        await asyncio.sleep(0)
        return await super().encrypt(secret, owner)


def _start_enrollment(store: UnitOfWorkFactory) -> StartEnrollment:
    units = RecordingUnitsOfWork(store, EventRecords())
    cipher = YieldingCipher({1: os.urandom(32)})
    clock = FrozenClock(NOW)
    verify = VerifyCode(
        unit_of_work=units,
        cipher=cipher,
        generator=PyotpGenerator(),
        clock=clock,
        settings=VerificationSettings(),
    )
    return StartEnrollment(
        unit_of_work=units,
        cipher=cipher,
        qr_renderer=SegnoQrRenderer(),
        clock=clock,
        settings=EnrollmentSettings(
            "Example Bank", TotpPolicy(), timedelta(minutes=10), max_starts_per_hour=MAX_STARTS
        ),
        step_up=StepUp(StepUpPolicy(), verify),
    )


async def _starts_in_the_last_hour(store: UnitOfWorkFactory) -> int:
    async with store() as uow:
        return await uow.audit.count_since(
            "alice", AuditAction.ENROLLMENT_STARTED, NOW - timedelta(hours=1)
        )


async def test_starts_at_once_never_pass_the_hourly_limit(unit_of_work: UnitOfWorkFactory) -> None:
    store = unit_of_work
    async with store() as uow:
        for minutes in range(MAX_STARTS - 1):
            started_at = NOW - timedelta(minutes=50 - minutes)
            await uow.audit.append(
                AuditEvent(AuditAction.ENROLLMENT_STARTED, "alice", None, started_at, CONTEXT)
            )
        await uow.commit()
    start = _start_enrollment(store)
    command = StartEnrollmentCommand(
        user_id="alice",
        account_name="alice@example.com",
        mfa_method="totp",
        device_name="phone",
        qr_format=QrFormat.SVG,
        context=CONTEXT,
    )

    outcomes = await asyncio.gather(
        *(start(command) for _ in range(AT_ONCE)), return_exceptions=True
    )

    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(refused) == AT_ONCE - 1, outcomes
    assert all(isinstance(o, EnrollmentRateLimited) for o in refused), refused
    assert await _starts_in_the_last_hour(store) == MAX_STARTS
