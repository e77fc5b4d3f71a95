import os
import re

import pytest

from domain.errors import InvalidCodeFormat
from domain.recovery_codes import format_recovery_code, hash_recovery_code, normalise_recovery_code


def test_codes_are_16_unambiguous_characters_in_groups_of_four() -> None:
    code = format_recovery_code(os.urandom(10))
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){3}[0-9A-HJKMNP-TV-Z]{4}", code)


def test_all_80_bits_reach_the_code() -> None:
    assert format_recovery_code(b"\x00" * 10) == "0000-0000-0000-0000"
    assert format_recovery_code(b"\xff" * 10) == "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
    assert format_recovery_code(b"\x00" * 9 + b"\x01") == "0000-0000-0000-0001"


def test_typing_is_forgiving() -> None:
    assert normalise_recovery_code("k7qm 2d9v-xr4t 8bna") == "K7QM2D9VXR4T8BNA"
    assert normalise_recovery_code("O0Il-0000-0000-0000") == "0011000000000000"


@pytest.mark.parametrize(
    "typed", ["", "ABCD", "K7QM-2D9V-XR4T-8BNU", "K7QM-2D9V-XR4T-8BNAX", "１２３"]
)
def test_malformed_codes_are_refused(typed: str) -> None:
    with pytest.raises(InvalidCodeFormat):
        normalise_recovery_code(typed)


def test_hash_is_salted_by_user_and_ignores_formatting() -> None:
    code = format_recovery_code(os.urandom(10))
    assert hash_recovery_code("alice", code) == hash_recovery_code(
        "alice", code.lower().replace("-", "")
    )
    assert hash_recovery_code("alice", code) != hash_recovery_code("bob", code)
    assert code.replace("-", "") not in hash_recovery_code("alice", code)
