"""Keyed pseudonyms: what stands for an erased user in the audit trail (GDPR art. 4(5), art. 17).

The pseudonym is HMAC-SHA256 of the user id under a key the service keeps apart from the data: the
same user always gets the same pseudonym, so an erased user's events still belong together, and
whoever holds the key and a user id can prove which events were theirs; the rows alone identify
nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import re

PSEUDONYM_PREFIX = "pseudonym:"
MIN_KEY_BYTES = 32
"""HMAC-SHA256's block is 64 bytes and its output 32: a shorter key would be the weak part."""


def pseudonym_of(key: bytes, user_id: str) -> str:
    """``pseudonym:`` and the hex HMAC-SHA256 of ``user_id`` under ``key`` (74 characters).

    Raises:
        ValueError: the key is shorter than 32 bytes.
    """
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"a pseudonym key needs at least {MIN_KEY_BYTES} bytes")
    digest = hmac.new(key, b"mfa-erasure/v1/" + user_id.encode("utf-8"), hashlib.sha256)
    return PSEUDONYM_PREFIX + digest.hexdigest()


_PSEUDONYM = re.compile(re.escape(PSEUDONYM_PREFIX) + "[0-9a-f]{64}")


def is_pseudonym(text: str) -> bool:
    """Whether ``text`` is a pseudonym as ``pseudonym_of`` makes them (not just its prefix)."""
    return _PSEUDONYM.fullmatch(text) is not None
