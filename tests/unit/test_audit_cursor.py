"""The audit trail's opaque cursor: what it encodes comes back, anything else is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from application.errors import InvalidAdminRequest
from application.ports.audit import AuditPosition
from entrypoints.audit_cursor import decode_cursor, encode_cursor


@pytest.mark.parametrize(
    "position",
    [
        AuditPosition(datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC), 42),
        AuditPosition(datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), 1),
        AuditPosition(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), 2**63 - 1),
    ],
)
def test_a_cursor_gives_back_its_position(position: AuditPosition) -> None:
    cursor = encode_cursor(position)
    assert cursor.isascii() and "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert decode_cursor(cursor) == position


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "YTEuMS4y=",
        "YjEuMS4y",  # another version
        encode_cursor(AuditPosition(datetime(2026, 1, 1, tzinfo=UTC), 1)) + "A" * 64,
        "YTEuOTk5OTk5OTk5OTk5OTk5OTk5OTkuMQ",  # a time beyond any date
        "YTEuMS45MjIzMzcyMDM2ODU0Nzc1ODA4",  # an id beyond BIGINT
        "wqM",  # not ASCII inside
    ],
)
def test_anything_else_is_an_invalid_request(cursor: str) -> None:
    with pytest.raises(InvalidAdminRequest):
        decode_cursor(cursor)
