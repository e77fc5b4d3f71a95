"""The default notifier's line names the user by the log pipeline's keyed hash only."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters.notifications.logging_notifier import USER_FIELD, LoggingNotifier
from application.ports.notifications import Notification, NotificationKind
from entrypoints.log_context import USER_ID
from entrypoints.logging_setup import configure_logging

KEY = "k" * 32


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("INFO", KEY, stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_the_line_carries_the_users_keyed_hash_never_the_id(log: io.StringIO) -> None:
    enrollment = uuid.uuid4()
    await LoggingNotifier().send(
        Notification(
            NotificationKind.AUTHENTICATOR_ADDED, "alice@example.com", enrollment, datetime.now(UTC)
        )
    )

    [line] = [json.loads(text) for text in log.getvalue().splitlines()]
    assert line["message"] == "notify authenticator.added"
    assert line["enrollment_id"] == str(enrollment)
    assert (
        line["user"]
        == hmac.new(KEY.encode(), b"alice@example.com", hashlib.sha256).hexdigest()[:16]
    )
    assert "alice" not in log.getvalue()
    assert USER_FIELD == USER_ID
