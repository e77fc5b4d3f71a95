"""Recovery-code hashes stored in ``recovery_codes``."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import UtcDateTime, recovery_codes
from adapters.sqlalchemy.transaction import Transaction

_CONSUME = (
    sa.update(recovery_codes)
    .where(
        recovery_codes.c.user_id == sa.bindparam("match_user_id"),
        recovery_codes.c.code_hash == sa.bindparam("match_code_hash"),
        recovery_codes.c.used_at.is_(None),
    )
    .values(used_at=sa.bindparam("now"))
)
_REMAINING = sa.select(
    sa.func.count().filter(recovery_codes.c.used_at.is_(None)),
    sa.func.max(recovery_codes.c.generated_at, type_=UtcDateTime()),
).where(recovery_codes.c.user_id == sa.bindparam("user_id"))


class SqlRecoveryCodeRepository:
    """Implements RecoveryCodeRepository; a code is used up by one conditional UPDATE."""

    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def replace(self, user_id: str, code_hashes: list[str], generated_at: datetime) -> None:
        with translated_errors():
            await self._transaction.execute(
                sa.delete(recovery_codes).where(recovery_codes.c.user_id == user_id)
            )
            await self._transaction.execute(
                sa.insert(recovery_codes),
                [
                    {"user_id": user_id, "code_hash": h, "generated_at": generated_at}
                    for h in code_hashes
                ],
            )

    async def consume(self, user_id: str, code_hash: str, now: datetime) -> bool:
        with translated_errors():
            result = await self._transaction.execute(
                _CONSUME, {"match_user_id": user_id, "match_code_hash": code_hash, "now": now}
            )
        return bool(result.rowcount == 1)

    async def remaining(self, user_id: str) -> tuple[int, datetime | None]:
        with translated_errors():
            row = (await self._transaction.execute(_REMAINING, {"user_id": user_id})).one()
        return int(row[0] or 0), row[1]

    async def discard(self, user_id: str) -> int:
        with translated_errors():
            unused = await self._transaction.execute(
                sa.select(sa.func.count()).where(
                    recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None)
                )
            )
            count = int(unused.scalar_one())
            await self._transaction.execute(
                sa.delete(recovery_codes).where(recovery_codes.c.user_id == user_id)
            )
        return count
