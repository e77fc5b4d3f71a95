"""The notification outbox in ``notification_outbox``."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import notification_outbox as outbox
from adapters.sqlalchemy.transaction import Transaction
from application.ports.notifications import Notification, NotificationKind, PendingNotification

_BACKLOG = sa.select(sa.func.count()).where(outbox.c.delivered_at.is_(None))


class SqlOutbox:
    """Implements Outbox. ``claim`` moves each row's due time to the end of the lease, and on
    Postgres skips rows another worker has locked, so concurrent workers claim different rows."""

    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def add(self, notification: Notification) -> None:
        with translated_errors():
            await self._transaction.execute(
                sa.insert(outbox).values(
                    kind=notification.kind.value,
                    user_id=notification.user_id,
                    enrollment_id=notification.enrollment_id,
                    occurred_at=notification.occurred_at,
                    due_at=notification.occurred_at,
                    attempts=0,
                )
            )

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[PendingNotification]:
        due = (
            sa.select(outbox)
            .where(outbox.c.delivered_at.is_(None), outbox.c.due_at <= now)
            .order_by(outbox.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with translated_errors():
            rows = (await self._transaction.execute(due)).all()
            if rows:
                await self._transaction.execute(
                    sa.update(outbox)
                    .where(outbox.c.id.in_([row.id for row in rows]))
                    .values(due_at=lease_until)
                )
        return [
            PendingNotification(
                id=row.id,
                notification=Notification(
                    NotificationKind(row.kind), row.user_id, row.enrollment_id, row.occurred_at
                ),
                attempts=row.attempts,
            )
            for row in rows
        ]

    async def delivered(self, notification_id: int, now: datetime) -> None:
        with translated_errors():
            await self._transaction.execute(
                sa.update(outbox).where(outbox.c.id == notification_id).values(delivered_at=now)
            )

    async def retry_later(self, notification_id: int, due: datetime) -> None:
        with translated_errors():
            await self._transaction.execute(
                sa.update(outbox)
                .where(outbox.c.id == notification_id)
                .values(due_at=due, attempts=outbox.c.attempts + 1)
            )

    async def backlog(self) -> int:
        with translated_errors():
            return int((await self._transaction.execute(_BACKLOG)).scalar_one())
