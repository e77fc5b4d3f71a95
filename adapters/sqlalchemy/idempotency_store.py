"""Idempotency keys in ``idempotency_keys``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import idempotency_keys as keys
from adapters.sqlalchemy.transaction import Transaction
from application.ports.idempotency import IdempotencyRecord, StoredOutcome

KEPT_ANSWER_STATUS = 200
"""What ``status_code`` holds for replicas of the previous release: every kept answer was a 200."""


class SqlIdempotencyStore:
    """Implements IdempotencyStore; ``reserve`` is an INSERT that does nothing when the key exists,
    so of two concurrent first requests exactly one gets the key."""

    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def reserve(
        self, user_id: str, key: str, fingerprint: str, now: datetime, lease_until: datetime
    ) -> IdempotencyRecord | None:
        insert = (
            postgres_insert if self._transaction.dialect_name == "postgresql" else sqlite_insert
        )
        claim = (
            insert(keys)
            .values(user_id=user_id, key=key, fingerprint=fingerprint, expires_at=lease_until)
            .on_conflict_do_nothing(index_elements=["user_id", "key"])
        )
        this_key = (keys.c.user_id == user_id) & (keys.c.key == key)
        with translated_errors():
            if (await self._transaction.execute(claim)).rowcount == 1:
                return None
            row = (
                await self._transaction.execute(sa.select(keys).where(this_key).with_for_update())
            ).one()
            if row.expires_at <= now:
                await self._transaction.execute(
                    sa.update(keys)
                    .where(this_key)
                    .values(
                        fingerprint=fingerprint,
                        status_code=None,
                        body=None,
                        resource_id=None,
                        expires_at=lease_until,
                    )
                )
                return None
        return _record(row)

    async def complete(
        self, user_id: str, key: str, outcome: StoredOutcome, expires_at: datetime
    ) -> None:
        with translated_errors():
            await self._transaction.execute(
                sa.update(keys)
                .where(keys.c.user_id == user_id, keys.c.key == key)
                .values(
                    status_code=KEPT_ANSWER_STATUS,
                    body=outcome.body,
                    resource_id=outcome.resource_id,
                    expires_at=expires_at,
                )
            )

    async def release(self, user_id: str, key: str) -> None:
        with translated_errors():
            await self._transaction.execute(
                sa.delete(keys).where(
                    keys.c.user_id == user_id, keys.c.key == key, keys.c.body.is_(None)
                )
            )

    async def remove_expired(self, now: datetime) -> int:
        with translated_errors():
            result = await self._transaction.execute(
                sa.delete(keys).where(keys.c.expires_at <= now)
            )
        return int(result.rowcount)


def _record(row: sa.Row[Any]) -> IdempotencyRecord:
    outcome = None if row.body is None else StoredOutcome(row.body, row.resource_id)
    return IdempotencyRecord(row.fingerprint, outcome, row.expires_at)
