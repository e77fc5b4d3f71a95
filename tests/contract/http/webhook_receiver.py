"""A loopback HTTP server that plays the bank's messaging service: it accepts the service's signed
notification webhooks and keeps them, so that the suite sees what the outbox delivered."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.loopback_server import LoopbackServer, QuietHandler
from tests.support.waiting import CEILING_SECONDS

NOTIFICATION_WAIT_SECONDS = CEILING_SECONDS


class WebhookReceiver:
    """Answers every POST with 204 and keeps its JSON body if its HMAC-SHA256 signature
    (``X-MFA-Signature: sha256=<hex>``) is right under ``key``."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._received: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = hmac.new(receiver.key, body, hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(
                    self.headers.get("X-MFA-Signature", ""), f"sha256={expected}"
                )
                self.send_response(204 if signed else 401)
                self.end_headers()
                if signed:
                    with receiver._changed:
                        receiver._received.append(json.loads(body))
                        receiver._changed.notify_all()

        self._server = LoopbackServer(Handler)

    @property
    def url(self) -> str:
        return f"{self._server.origin}/notifications"

    def of(self, user_id: str) -> list[dict[str, Any]]:
        with self._changed:
            return [n for n in self._received if n.get("userId") == user_id]

    def wait_for(
        self, user_id: str, kind: str, timeout: float = NOTIFICATION_WAIT_SECONDS
    ) -> dict[str, Any]:
        """The first notification of ``kind`` for ``user_id``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for notification in self._received:
                    if notification.get("userId") == user_id and notification.get("type") == kind:
                        return notification
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [n.get("type") for n in self._received if n.get("userId") == user_id]
                    raise AssertionError(
                        f"no {kind} notification for {user_id} within {timeout:.0f} s; got {seen}"
                    )
                self._changed.wait(left)

    @contextmanager
    def running(self) -> Iterator[WebhookReceiver]:
        with self._server.running():
            yield self
