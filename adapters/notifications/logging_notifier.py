"""Notifications written to the service's log, for development and as the default."""

from __future__ import annotations

import logging

from application.ports.notifications import Notification

logger = logging.getLogger("mfa.notifications")


class LoggingNotifier:
    """Implements Notifier by logging what the user would be told (kind, user, authenticator)."""

    async def send(self, notification: Notification) -> None:
        logger.info(
            "notify %s user=%s enrollment=%s",
            notification.kind.value,
            notification.user_id,
            notification.enrollment_id,
        )
