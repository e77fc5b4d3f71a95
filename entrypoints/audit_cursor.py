"""The opaque cursor of the audit trail's pages: where the previous page ended (time and id),
base64url-encoded. Tampering only moves the page within what the agent may read anyway."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta

from application.errors import InvalidAdminRequest
from application.ports.audit import AuditPosition

_VERSION = "a1"
_DECODED = re.compile(r"a1\.(-?[0-9]{1,20})\.([0-9]{1,20})")
MAX_CURSOR_CHARACTERS = 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LARGEST_ID = 2**63 - 1


def encode_cursor(position: AuditPosition) -> str:
    micros = _micros(position.occurred_at)
    text = f"{_VERSION}.{micros}.{position.id}"
    return base64.urlsafe_b64encode(text.encode("ascii")).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> AuditPosition:
    """Raises InvalidAdminRequest for anything ``encode_cursor`` did not make."""
    try:
        if len(cursor) > MAX_CURSOR_CHARACTERS:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        match = _DECODED.fullmatch(text)
        if match is None:
            raise ValueError
        occurred_at = _EPOCH + timedelta(microseconds=int(match.group(1)))
        event_id = int(match.group(2))
        position = AuditPosition(occurred_at, event_id)
        if event_id > _LARGEST_ID or encode_cursor(position) != cursor:
            raise ValueError
        return position
    except (ValueError, UnicodeError, binascii.Error, OverflowError):
        raise InvalidAdminRequest("cursor is not one this service gave", "cursor") from None


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)
