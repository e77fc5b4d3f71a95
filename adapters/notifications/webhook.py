"""Notifications posted to the bank's messaging service as signed JSON."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from application.errors import DependencyUnavailable
from application.ports.notifications import Notification

SIGNATURE_HEADER = "X-MFA-Signature"


class WebhookNotifier:
    """Implements Notifier with an HTTPS POST of ``{"type", "userId", "enrollmentId", "occurredAt"}``.

    The body is signed with HMAC-SHA256 under a shared key (``X-MFA-Signature: sha256=<hex>``) so the
    receiver can tell it came from this service. Any answer but 2xx, a timeout or a connection error
    is a failed delivery, retried later by the outbox.
    """

    def __init__(
        self, url: str, signing_key: bytes, client: httpx.AsyncClient, timeout: float = 2.0
    ) -> None:
        self._url = url
        self._signing_key = signing_key
        self._client = client
        self._timeout = timeout

    async def send(self, notification: Notification) -> None:
        body = json.dumps(
            {
                "type": notification.kind.value,
                "userId": notification.user_id,
                "enrollmentId": str(notification.enrollment_id)
                if notification.enrollment_id
                else None,
                "occurredAt": notification.occurred_at.isoformat().replace("+00:00", "Z"),
            },
            separators=(",", ":"),
        ).encode()
        signature = hmac.new(self._signing_key, body, hashlib.sha256).hexdigest()
        try:
            response = await self._client.post(
                self._url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: f"sha256={signature}",
                },
                timeout=self._timeout,
            )
        except httpx.HTTPError as error:
            raise DependencyUnavailable("notification webhook") from error
        if not response.is_success:
            raise DependencyUnavailable("notification webhook")
