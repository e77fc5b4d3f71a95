"""Recovery-code hashes stored in ``recovery_codes``."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.tables import UtcDateTime, recovery_codes


class SqlRecoveryCodeRepository:
    """Implements RecoveryCodeRepository; a code is used up by one conditional UPDATE."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def replace(self, user_id: str, code_hashes: list[str], generated_at: datetime) -> None:
        with translated_errors():
            await self._connection.execute(
                sa.delete(recovery_codes).where(recovery_codes.c.user_id == user_id)
            )
            await self._connection.execute(
                sa.insert(recovery_codes),
                [
                    {"user_id": user_id, "code_hash": h, "generated_at": generated_at}
                    for h in code_hashes
                ],
            )

    async def consume(self, user_id: str, code_hash: str, now: datetime) -> bool:
        with translated_errors():
            result = await self._connection.execute(
                sa.update(recovery_codes)
                .where(
                    recovery_codes.c.user_id == user_id,
                    recovery_codes.c.code_hash == code_hash,
                    recovery_codes.c.used_at.is_(None),
                )
                .values(used_at=now)
            )
        return bool(result.rowcount == 1)

    async def remaining(self, user_id: str) -> tuple[int, datetime | None]:
        query = sa.select(
            sa.func.count().filter(recovery_codes.c.used_at.is_(None)),
            sa.func.max(recovery_codes.c.generated_at, type_=UtcDateTime()),
        ).where(recovery_codes.c.user_id == user_id)
        with translated_errors():
            row = (await self._connection.execute(query)).one()
        return int(row[0] or 0), row[1]
