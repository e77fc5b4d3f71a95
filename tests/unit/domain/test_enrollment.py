import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.enrollment import CodeMatch, Enrollment, EnrollmentStatus
from domain.errors import (
    EnrollmentExpired,
    EnrollmentNotPending,
    InvalidDeviceName,
    StepAlreadyUsed,
    UnsupportedMfaMethod,
)
from domain.events import (
    AuthenticatorRenamed,
    AuthenticatorRevoked,
    CodeAccepted,
    EnrollmentConfirmed,
    EnrollmentStarted,
)
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


@pytest.mark.parametrize(
    "name", ["", " ", "x" * 65, "tab\there", "new\nline", "\u202eevil", "\u3164", "\u2800 \u115f"]
)
def test_device_name_must_be_one_to_64_printable_characters(name: str) -> None:
    with pytest.raises(InvalidDeviceName):
        _start(name)


def test_device_name_may_be_omitted_or_unicode() -> None:
    assert _start(None).device_name is None
    assert _start("Téléphone de Zoë 📱").device_name == "Téléphone de Zoë 📱"
    family = "👩\u200d👩\u200d👧 tablet"  # an emoji sequence joined by zero-width joiners
    assert _start(family).device_name == family


def test_only_allow_listed_methods_parse() -> None:
    assert MfaMethod.parse("totp") is MfaMethod.TOTP
    for other in ("sms", "TOTP", "hotp", ""):
        with pytest.raises(UnsupportedMfaMethod):
            MfaMethod.parse(other)


def _active(last_used_step: int | None = None) -> Enrollment:
    enrollment = _start()
    enrollment.status = EnrollmentStatus.ACTIVE
    enrollment.last_used_step = last_used_step
    return enrollment


def _codes(step_of_right_code: int) -> Callable[[int], str]:
    return lambda step: "424242" if step == step_of_right_code else f"{step % 1000000:06d}"


STEP = TotpPolicy().time_step(NOW.timestamp())


def test_match_searches_one_step_either_side() -> None:
    enrollment = _active()
    for offset in (-1, 0, 1):
        match = enrollment.match_code("424242", NOW, _codes(STEP + offset), window=1)
        assert match is not None
        assert (match.step, match.offset, match.replayed) == (STEP + offset, offset, False)
    assert enrollment.match_code("424242", NOW, _codes(STEP + 2), window=1) is None


def test_match_at_or_before_the_last_used_step_is_a_replay() -> None:  # V2
    enrollment = _active(last_used_step=STEP)
    match = enrollment.match_code("424242", NOW, _codes(STEP), window=1)
    assert match is not None
    assert match.replayed
    with pytest.raises(StepAlreadyUsed):
        enrollment.record_use(match, NOW, max_drift=2)


def test_every_candidate_step_is_computed() -> None:
    computed: list[int] = []

    def code_at(step: int) -> str:
        computed.append(step)
        return "424242" if step == STEP - 1 else "000000"

    _active().match_code("424242", NOW, code_at, window=1)
    assert computed == [STEP - 1, STEP, STEP + 1]


def test_learned_drift_is_bounded() -> None:
    enrollment = _active()
    match = enrollment.match_code("424242", NOW, _codes(STEP + 1), window=1)
    assert match is not None
    enrollment.record_use(match, NOW, max_drift=0)
    assert enrollment.drift_steps == 0
    assert enrollment.last_used_step == STEP + 1


@pytest.mark.parametrize(("max_drift", "accepted"), [(0, False), (1, True)])
def test_a_stored_drift_moves_the_window_only_as_far_as_max_drift_allows_now(
    max_drift: int, accepted: bool
) -> None:
    """Drift learned under a wider setting (2 was the default) is not trusted past today's."""
    enrollment = _active()
    enrollment.drift_steps = 2
    match = enrollment.match_code("424242", NOW, _codes(STEP + 2), window=1, max_drift=max_drift)
    assert (match is not None) == accepted


def test_confirmation_activates_and_uses_up_the_step() -> None:
    enrollment = _start()
    match = enrollment.match_code("424242", NOW, _codes(STEP), window=1)
    assert match is not None
    enrollment.confirm(match, NOW)
    assert enrollment.status is EnrollmentStatus.ACTIVE
    assert (enrollment.last_used_step, enrollment.expires_at) == (STEP, None)
    with pytest.raises(EnrollmentNotPending):
        enrollment.confirm(match, NOW)


def test_expired_enrollment_cannot_be_confirmed() -> None:
    enrollment = _start()
    later = NOW + timedelta(minutes=11)
    match = enrollment.match_code(
        "424242", later, _codes(TotpPolicy().time_step(later.timestamp())), 1
    )
    assert match is not None
    with pytest.raises(EnrollmentExpired):
        enrollment.confirm(match, later)


def test_each_change_appends_what_happened_and_hands_it_out_once() -> None:
    enrollment = _start()
    enrollment.confirm(CodeMatch(step=10, offset=0, replayed=False), NOW)
    enrollment.record_use(CodeMatch(step=11, offset=1, replayed=False), NOW, 2)
    enrollment.rename("tablet", NOW)
    enrollment.revoke(NOW)

    kinds = [type(event) for event in enrollment.collect_events()]

    assert kinds == [
        EnrollmentStarted,
        EnrollmentConfirmed,
        CodeAccepted,
        AuthenticatorRenamed,
        AuthenticatorRevoked,
    ]
    assert enrollment.collect_events() == []


def test_a_refused_change_appends_nothing() -> None:
    enrollment = _start()
    enrollment.collect_events()

    with pytest.raises(EnrollmentNotPending):
        enrollment.revoke(NOW)
    enrollment.confirm(CodeMatch(step=10, offset=0, replayed=False), NOW)
    enrollment.collect_events()
    with pytest.raises(StepAlreadyUsed):
        enrollment.record_use(CodeMatch(step=10, offset=0, replayed=False), NOW, 2)
    with pytest.raises(EnrollmentNotPending):
        enrollment.cancel(NOW)

    assert enrollment.collect_events() == []
