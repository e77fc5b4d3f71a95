import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.enrollment import Enrollment, EnrollmentStatus
from domain.errors import InvalidDeviceName, UnsupportedMfaMethod
from domain.mfa_method import MfaMethod
from domain.policy import TotpPolicy

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _start(device_name: str | None = "Alice's phone") -> Enrollment:
    return Enrollment.start(
        enrollment_id=uuid.uuid4(),
        user_id="alice",
        method=MfaMethod.TOTP,
        policy=TotpPolicy(),
        sealed_secret="sealed",
        device_name=device_name,
        now=NOW,
        pending_ttl=timedelta(minutes=10),
    )


def test_new_enrollment_is_pending_and_expires_after_its_ttl() -> None:
    enrollment = _start()
    assert enrollment.status is EnrollmentStatus.PENDING
    assert enrollment.expires_at == NOW + timedelta(minutes=10)
    assert not enrollment.is_expired(NOW + timedelta(minutes=9, seconds=59))
    assert enrollment.is_expired(NOW + timedelta(minutes=10))


@pytest.mark.parametrize("name", ["", " ", "x" * 65, "tab\there", "new\nline", "\u202eevil"])
def test_device_name_must_be_one_to_64_printable_characters(name: str) -> None:
    with pytest.raises(InvalidDeviceName):
        _start(name)


def test_device_name_may_be_omitted_or_unicode() -> None:
    assert _start(None).device_name is None
    assert _start("Téléphone de Zoë 📱").device_name == "Téléphone de Zoë 📱"


def test_only_allow_listed_methods_parse() -> None:
    assert MfaMethod.parse("totp") is MfaMethod.TOTP
    for other in ("sms", "TOTP", "hotp", ""):
        with pytest.raises(UnsupportedMfaMethod):
            MfaMethod.parse(other)
