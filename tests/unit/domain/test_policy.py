import pytest

from domain.errors import InvalidTotpPolicy
from domain.policy import HashAlgorithm, TotpPolicy


def test_default_policy_is_what_every_common_app_honours() -> None:  # S2
    policy = TotpPolicy()
    assert (policy.algorithm, policy.digits, policy.period) == (HashAlgorithm.SHA1, 6, 30)
    assert policy.is_widely_supported


def test_other_parameters_are_allowed_but_flagged_as_not_widely_supported() -> None:
    assert not TotpPolicy(HashAlgorithm.SHA256, 8, 30).is_widely_supported


@pytest.mark.parametrize("digits", [5, 9, 0, -6])
def test_digits_outside_six_to_eight_are_refused(digits: int) -> None:
    with pytest.raises(InvalidTotpPolicy):
        TotpPolicy(digits=digits)


@pytest.mark.parametrize("period", [0, 14, 121, -30])
def test_periods_outside_fifteen_to_120_seconds_are_refused(period: int) -> None:
    with pytest.raises(InvalidTotpPolicy):
        TotpPolicy(period=period)


@pytest.mark.parametrize(
    ("unix_time", "step"),
    [(59, 1), (1111111109, 37037036), (1234567890, 41152263), (20000000000, 666666666)],
)
def test_time_step_follows_rfc_6238(unix_time: int, step: int) -> None:  # S3
    assert TotpPolicy().time_step(unix_time) == step


def test_time_step_beyond_2_to_the_32_seconds_is_exact() -> None:  # S3
    assert TotpPolicy().time_step(2**32 + 30) == (2**32 + 30) // 30
