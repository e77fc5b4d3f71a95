from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import LockedOut
from domain.events import CheckBlocked, CodeRefused, LockoutStarted
from domain.throttle import MAX_CONSECUTIVE_FAILURES, AttemptThrottle

NOW = datetime(2026, 11, 27, tzinfo=UTC)


def _fail(throttle: AttemptThrottle, times: int, now: datetime = NOW) -> None:
    for _ in range(times):
        throttle.reserve(now)
        throttle.fail(now)


def test_five_failures_start_a_one_minute_block() -> None:  # V5
    throttle = AttemptThrottle(user_id="alice")
    _fail(throttle, 5)
    with pytest.raises(LockedOut) as blocked:
        throttle.reserve(NOW + timedelta(seconds=1))
    assert blocked.value.retry_after == 59


def test_attempts_in_flight_fill_the_quota() -> None:  # V5
    throttle = AttemptThrottle(user_id="alice")
    for _ in range(5):
        throttle.reserve(NOW)
    with pytest.raises(LockedOut):
        throttle.reserve(NOW)


def test_blocks_double_up_to_an_hour() -> None:
    throttle = AttemptThrottle(user_id="alice")
    now = NOW
    lengths = []
    for _ in range(9):
        _fail(throttle, 5, now)
        assert throttle.locked_until is not None
        lengths.append(throttle.locked_until - now)
        now = throttle.locked_until
    assert lengths[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert lengths[-1] == timedelta(hours=1)


def test_success_resets_count_and_back_off() -> None:
    throttle = AttemptThrottle(user_id="alice")
    _fail(throttle, 5)
    assert throttle.locked_until is not None
    later = throttle.locked_until
    throttle.reserve(later)
    throttle.succeed()
    assert (throttle.failures, throttle.lockouts) == (0, 0)
    assert throttle.locked_until is None


def test_released_attempt_is_not_counted() -> None:  # V7
    throttle = AttemptThrottle(user_id="alice")
    throttle.reserve(NOW)
    throttle.release(NOW)
    assert throttle.attempts_left == 5


def test_huge_back_off_history_does_not_overflow() -> None:
    throttle = AttemptThrottle(user_id="alice", failures=4, lockouts=10_000)
    throttle.reserve(NOW)
    assert throttle.fail(NOW)
    assert throttle.locked_until == NOW + timedelta(hours=1)


def test_failures_a_block_and_a_refused_check_are_appended_as_they_happen() -> None:
    throttle = AttemptThrottle(user_id="alice")
    _fail(throttle, MAX_CONSECUTIVE_FAILURES)
    with pytest.raises(LockedOut):
        throttle.reserve(NOW)

    kinds = [type(event) for event in throttle.collect_events()]

    assert kinds == [CodeRefused] * MAX_CONSECUTIVE_FAILURES + [LockoutStarted, CheckBlocked]


def test_an_answer_that_is_no_check_is_refused_while_blocked_and_records_nothing() -> None:
    throttle = AttemptThrottle(user_id="alice")
    _fail(throttle, 5)
    throttle.collect_events()

    with pytest.raises(LockedOut) as refused:
        throttle.refuse_while_blocked(NOW + timedelta(seconds=1))
    throttle.refuse_while_blocked(NOW + timedelta(minutes=1))

    assert refused.value.retry_after == 59
    assert throttle.failures == MAX_CONSECUTIVE_FAILURES
    assert throttle.collect_events() == []
