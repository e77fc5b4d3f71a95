import os
from datetime import UTC, datetime, timedelta

import pytest

from adapters.local_cipher.cipher import LocalAesGcmCipher
from adapters.memory.clock import FrozenClock
from adapters.memory.store import MemoryUnitOfWorkFactory
from adapters.pyotp.generator import PyotpGenerator
from adapters.segno.renderer import SegnoQrRenderer
from application.errors import DependencyUnavailable
from application.event_records import EventRecords
from application.ports.audit import AuditAction, RequestContext
from application.ports.qr_renderer import QrFormat, QrRenderer
from application.ports.secret_cipher import SecretCipher, SecretOwner
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.step_up import StepUp, StepUpPolicy
from application.use_cases.start_enrollment import (
    EnrollmentSettings,
    StartEnrollment,
    StartEnrollmentCommand,
)
from application.use_cases.verify_code import VerificationSettings, VerifyCode
from domain.enrollment import EnrollmentStatus
from domain.errors import InvalidDeviceName, UnsupportedMfaMethod
from domain.policy import HashAlgorithm, TotpPolicy
from tests.support.doubles import BrokenQrRenderer, UnavailableCipher

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CONTEXT = RequestContext(request_id="req-12345678", client_address="127.0.0.1", user_agent="t")


def _use_case(
    store: MemoryUnitOfWorkFactory,
    cipher: SecretCipher | None = None,
    renderer: QrRenderer | None = None,
    policy: TotpPolicy | None = None,
) -> StartEnrollment:
    cipher = cipher or LocalAesGcmCipher({1: os.urandom(32)})
    clock = FrozenClock(NOW)
    units = RecordingUnitsOfWork(store, EventRecords())
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
        qr_renderer=renderer or SegnoQrRenderer(),
        clock=clock,
        settings=EnrollmentSettings("Example Bank", policy or TotpPolicy(), timedelta(minutes=10)),
        step_up=StepUp(StepUpPolicy(), verify),
    )


def _command(user: str = "alice", **changes: object) -> StartEnrollmentCommand:
    values: dict[str, object] = {
        "user_id": user,
        "account_name": f"{user}@example.com",
        "mfa_method": "totp",
        "device_name": "phone",
        "qr_format": QrFormat.SVG,
        "context": CONTEXT,
    }
    values.update(changes)
    return StartEnrollmentCommand(**values)  # type: ignore[arg-type]


async def test_started_enrollment_is_stored_pending_with_only_the_ciphertext() -> None:
    store = MemoryUnitOfWorkFactory()
    cipher = LocalAesGcmCipher({1: os.urandom(32)})
    started = await _use_case(store, cipher)(_command())

    stored = store.store.enrollments[started.enrollment_id]
    assert stored.status is EnrollmentStatus.PENDING
    assert stored.expires_at == NOW + timedelta(minutes=10)
    assert started.secret.base32 not in stored.sealed_secret
    owner = SecretOwner("alice", started.enrollment_id)
    assert await cipher.decrypt(stored.sealed_secret, owner) == started.secret


async def test_response_carries_uri_and_qr_for_the_same_secret() -> None:
    started = await _use_case(MemoryUnitOfWorkFactory())(_command())
    assert f"secret={started.secret.base32}&" in started.otpauth_uri
    assert started.otpauth_uri.startswith("otpauth://totp/Example%20Bank:alice%40example.com?")
    assert started.qr_code_data_uri.startswith("data:image/svg+xml;base64,")


async def test_each_enrollment_gets_a_different_secret() -> None:
    use_case = _use_case(MemoryUnitOfWorkFactory())
    secrets_seen = {(await use_case(_command(f"user{i}"))).secret.base32 for i in range(50)}
    assert len(secrets_seen) == 50


async def test_new_enrollment_replaces_the_pending_one() -> None:
    store = MemoryUnitOfWorkFactory()
    use_case = _use_case(store)
    first = await use_case(_command())
    second = await use_case(_command())

    assert list(store.store.enrollments) == [second.enrollment_id]
    actions = [(e.action, e.enrollment_id) for e in store.store.audit_events]
    assert actions == [
        (AuditAction.ENROLLMENT_STARTED, first.enrollment_id),
        (AuditAction.ENROLLMENT_REPLACED, first.enrollment_id),
        (AuditAction.ENROLLMENT_STARTED, second.enrollment_id),
    ]


async def test_pending_enrollments_of_other_users_are_untouched() -> None:
    store = MemoryUnitOfWorkFactory()
    use_case = _use_case(store)
    bob = await use_case(_command("bob"))
    await use_case(_command("alice"))
    assert bob.enrollment_id in store.store.enrollments


async def test_policy_is_recorded_with_the_enrollment() -> None:  # S2
    store = MemoryUnitOfWorkFactory()
    policy = TotpPolicy(HashAlgorithm.SHA256, 8, 60)
    started = await _use_case(store, policy=policy)(_command())
    assert store.store.enrollments[started.enrollment_id].policy == policy
    assert started.otpauth_uri.endswith("algorithm=SHA256&digits=8&period=60")


async def test_cipher_down_stores_nothing_and_returns_no_secret() -> None:  # D1
    store = MemoryUnitOfWorkFactory()
    with pytest.raises(DependencyUnavailable):
        await _use_case(store, UnavailableCipher())(_command())
    assert store.store.enrollments == {}
    assert store.store.audit_events == []


async def test_renderer_failure_stores_nothing() -> None:  # D1
    store = MemoryUnitOfWorkFactory()
    with pytest.raises(RuntimeError):
        await _use_case(store, renderer=BrokenQrRenderer())(_command())
    assert store.store.enrollments == {}


async def test_failed_replacement_keeps_the_earlier_pending_enrollment() -> None:
    store = MemoryUnitOfWorkFactory()
    first = await _use_case(store)(_command())
    with pytest.raises(DependencyUnavailable):
        await _use_case(store, UnavailableCipher())(_command())
    assert list(store.store.enrollments) == [first.enrollment_id]


@pytest.mark.parametrize("method", ["sms", "TOTP", ""])
async def test_methods_off_the_allow_list_are_refused(method: str) -> None:
    store = MemoryUnitOfWorkFactory()
    with pytest.raises(UnsupportedMfaMethod):
        await _use_case(store)(_command(mfa_method=method))
    assert store.store.enrollments == {}


async def test_invalid_device_name_is_refused_and_nothing_is_stored() -> None:
    store = MemoryUnitOfWorkFactory()
    with pytest.raises(InvalidDeviceName):
        await _use_case(store)(_command(device_name="bad\x00name"))
    assert store.store.enrollments == {}


async def test_results_and_commands_never_print_secret_material() -> None:  # S5
    from application.step_up import Authentication
    from application.use_cases.verify_code import VerifyCommand

    started = await _use_case(MemoryUnitOfWorkFactory())(_command())
    assert started.secret.base32 not in repr(started)
    assert "987650" not in repr(VerifyCommand("alice", "987650", None, CONTEXT))
    assert "654321" not in repr(Authentication(None, current_code="654321"))
