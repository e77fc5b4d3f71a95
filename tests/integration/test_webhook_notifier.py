"""The webhook notifier against a real HTTP receiver on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from uuid import UUID

import httpx
import pytest

from adapters.notifications.webhook import WebhookNotifier
from application.errors import DependencyUnavailable
from application.ports.notifications import Notification, NotificationKind

KEY = b"shared-webhook-key"
NOTIFICATION = Notification(
    NotificationKind.AUTHENTICATOR_ADDED,
    "alice",
    UUID("0b6f1c2e-0000-4000-8000-000000000001"),
    datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
)


class Receiver(BaseHTTPRequestHandler):
    answer = 204
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(Receiver.answer)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received, Receiver.answer = [], 204
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/notify"
    server.shutdown()


async def test_notification_is_posted_as_signed_json(receiver: str) -> None:
    async with httpx.AsyncClient() as client:
        await WebhookNotifier(receiver, KEY, client).send(NOTIFICATION)
    [(headers, body)] = Receiver.received
    assert json.loads(body) == {
        "type": "authenticator.added",
        "userId": "alice",
        "enrollmentId": "0b6f1c2e-0000-4000-8000-000000000001",
        "occurredAt": "2026-11-27T12:00:00Z",
    }
    expected = hmac.new(KEY, body, hashlib.sha256).hexdigest()
    assert headers["X-MFA-Signature"] == f"sha256={expected}"


async def test_refused_delivery_is_a_dependency_failure(receiver: str) -> None:
    Receiver.answer = 503
    async with httpx.AsyncClient() as client:
        with pytest.raises(DependencyUnavailable):
            await WebhookNotifier(receiver, KEY, client).send(NOTIFICATION)


async def test_unreachable_receiver_is_a_dependency_failure() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(DependencyUnavailable):
            await WebhookNotifier("http://127.0.0.1:9/notify", KEY, client).send(NOTIFICATION)
