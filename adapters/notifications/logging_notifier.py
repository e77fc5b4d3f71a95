"""Notifications written to the service's log, for development and as the default."""

from __future__ import annotations

import logging
from typing import Final

from application.ports.notifications import Notification

logger = logging.getLogger("mfa.notifications")

USER_FIELD: Final = "user_id"
"""The ``extra`` field the service's log pipeline replaces by the user's keyed hash (``user``)
before a line is written (``entrypoints.log_context.USER_ID``): the log never names the user."""


class LoggingNotifier:
    """Implements Notifier by logging what the user would be told: the kind, the authenticator, and
    the user as the log pipeline's keyed hash, never the id itself."""

    async def send(self, notification: Notification) -> None:
        enrollment = notification.enrollment_id
        logger.info(
            "notify %s",
            notification.kind.value,
            extra={
                USER_FIELD: notification.user_id,
                "enrollment_id": None if enrollment is None else str(enrollment),
            },
        )
