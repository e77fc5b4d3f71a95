"""Keyed pseudonyms of erased users (GDPR art. 4(5))."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from domain.pseudonym import is_pseudonym, pseudonym_of

KEY = b"0123456789abcdef0123456789abcdef"


def test_the_pseudonym_is_the_hmac_sha256_of_the_user_id_under_the_key() -> None:
    expected = hmac.new(KEY, b"mfa-erasure/v1/alice", hashlib.sha256).hexdigest()
    assert pseudonym_of(KEY, "alice") == f"pseudonym:{expected}"
    assert pseudonym_of(KEY, "alice") == pseudonym_of(KEY, "alice")
    assert is_pseudonym(pseudonym_of(KEY, "alice")) and not is_pseudonym("alice")
    assert not is_pseudonym("pseudonym:alice")  # the prefix alone makes no pseudonym


def test_another_key_or_user_gives_another_pseudonym() -> None:
    assert pseudonym_of(KEY, "alice") != pseudonym_of(KEY, "bob")
    assert pseudonym_of(KEY, "alice") != pseudonym_of(KEY[::-1], "alice")


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        pseudonym_of(b"short", "alice")
