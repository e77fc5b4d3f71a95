"""The use cases as the service wires them (``entrypoints.composition.wiring``), on memory adapters:
the rules hold through the real wiring, not only through hand-built use cases."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from adapters.local_cipher.cipher import LocalAesGcmCipher
from adapters.memory.clock import FrozenClock
from adapters.memory.operational_metrics import MemoryOperationalMetrics
from adapters.memory.store import MemoryUnitOfWorkFactory
from adapters.pyotp.generator import PyotpGenerator
from adapters.segno.renderer import SegnoQrRenderer
from application.errors import CodeRejected
from application.ports.audit import RequestContext
from application.ports.qr_renderer import QrFormat
from application.ports.token_verifier import Principal
from application.step_up import Authentication
from application.use_cases.confirm_enrollment import ConfirmEnrollmentCommand
from application.use_cases.start_enrollment import StartEnrollmentCommand
from application.use_cases.started_enrollment import StartedEnrollment
from application.use_cases.verify_code import VerifyCommand
from entrypoints.composition.wiring import Ports, wire_services
from entrypoints.http.services import Services
from entrypoints.settings import Settings

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CONTEXT = RequestContext(request_id="req-wired-0001", client_address="127.0.0.1", user_agent="t")


class _NoTokens:
    async def verify(self, token: str) -> Principal:
        raise AssertionError("no use case here checks a token")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def services(tmp_path: Path, clock: FrozenClock) -> Services:
    return wire_services(
        Settings(data_dir=tmp_path),
        Ports(
            unit_of_work=MemoryUnitOfWorkFactory(),
            cipher=LocalAesGcmCipher({1: os.urandom(32)}),
            generator=PyotpGenerator(),
            qr_renderer=SegnoQrRenderer(),
            clock=clock,
            token_verifier=_NoTokens(),
            metrics=MemoryOperationalMetrics(),
            pseudonym_key=os.urandom(32),
        ),
    )


async def _start(services: Services, user: str = "alice") -> StartedEnrollment:
    return await services.start_enrollment(
        StartEnrollmentCommand(
            user_id=user,
            account_name=f"{user}@example.com",
            mfa_method="totp",
            device_name="phone",
            qr_format=QrFormat.PNG,
            qr_scale=4,
            context=CONTEXT,
            authentication=Authentication(auth_time=None),
        )
    )


def _code(started: StartedEnrollment, at: datetime) -> str:
    totp = pyotp.parse_uri(started.otpauth_uri)
    assert isinstance(totp, pyotp.TOTP)
    return totp.at(at)


async def _activate(services: Services, clock: FrozenClock) -> StartedEnrollment:
    started = await _start(services)
    await services.confirm_enrollment(
        ConfirmEnrollmentCommand(
            "alice", started.enrollment_id, _code(started, clock.now()), CONTEXT
        )
    )
    return started


async def test_a_confirmed_authenticator_verifies_the_next_code(
    services: Services, clock: FrozenClock
) -> None:
    started = await _activate(services, clock)
    clock.advance(timedelta(seconds=30))

    verified = await services.verify_code(
        VerifyCommand("alice", _code(started, clock.now()), None, CONTEXT)
    )

    assert verified.enrollment_id == started.enrollment_id


async def test_second_use_of_a_code_is_rejected(services: Services, clock: FrozenClock) -> None:
    started = await _activate(services, clock)
    clock.advance(timedelta(seconds=30))
    code = _code(started, clock.now())
    await services.verify_code(VerifyCommand("alice", code, None, CONTEXT))

    with pytest.raises(CodeRejected):
        await services.verify_code(VerifyCommand("alice", code, None, CONTEXT))


async def test_the_code_that_confirmed_cannot_sign_in(
    services: Services, clock: FrozenClock
) -> None:
    started = await _start(services)
    code = _code(started, clock.now())
    await services.confirm_enrollment(
        ConfirmEnrollmentCommand("alice", started.enrollment_id, code, CONTEXT)
    )

    with pytest.raises(CodeRejected):
        await services.verify_code(VerifyCommand("alice", code, None, CONTEXT))


async def test_a_retried_start_is_shown_the_same_pending_enrollment(services: Services) -> None:
    started = await _start(services)

    shown = await services.show_pending_enrollment(
        "alice",
        started.enrollment_id,
        "alice@example.com",
        QrFormat.PNG,
        4,
        authentication=Authentication(auth_time=None),
        context=CONTEXT,
    )

    assert shown.enrollment_id == started.enrollment_id
    assert shown.secret.base32 == started.secret.base32
