import base64
import secrets

import pytest

from domain.errors import InvalidSecret
from domain.secret import SECRET_BYTES, TotpSecret


def test_new_secret_is_160_bits_in_base32_without_padding() -> None:  # S1
    secret = TotpSecret.from_entropy(secrets.token_bytes(SECRET_BYTES))
    assert len(secret.key) == 20
    assert len(secret.base32) == 32
    assert "=" not in secret.base32
    assert base64.b32decode(secret.base32) == secret.key


def test_new_secret_refuses_entropy_of_the_wrong_length() -> None:
    with pytest.raises(InvalidSecret):
        TotpSecret.from_entropy(b"\x00" * 19)


def test_stored_secret_shorter_than_128_bits_is_refused() -> None:
    with pytest.raises(InvalidSecret):
        TotpSecret.from_bytes(b"\x01" * 15)


def test_secret_never_prints_itself() -> None:  # S5
    secret = TotpSecret.from_entropy(b"\x42" * 20)
    for text in (repr(secret), str(secret), f"{secret}", repr([secret])):
        assert secret.base32 not in text
        assert "hidden" in text


def test_grouped_secret_is_the_same_secret_in_fours() -> None:
    secret = TotpSecret.from_entropy(bytes(range(20)))
    assert secret.grouped.replace(" ", "") == secret.base32
    assert all(len(group) == 4 for group in secret.grouped.split(" "))


def test_secrets_compare_by_value() -> None:
    assert TotpSecret.from_bytes(b"a" * 20) == TotpSecret.from_bytes(b"a" * 20)
    assert TotpSecret.from_bytes(b"a" * 20) != TotpSecret.from_bytes(b"b" * 20)
