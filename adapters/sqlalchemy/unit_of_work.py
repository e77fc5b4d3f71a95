"""A unit of work as one database transaction on one pooled connection."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from adapters.sqlalchemy.audit_trail import SqlAuditTrail
from adapters.sqlalchemy.enrollment_repository import SqlEnrollmentRepository
from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.idempotency_store import SqlIdempotencyStore
from adapters.sqlalchemy.outbox import SqlOutbox
from adapters.sqlalchemy.recovery_code_repository import SqlRecoveryCodeRepository
from adapters.sqlalchemy.throttle_repository import SqlThrottleRepository


class SqlUnitOfWork:
    """Implements UnitOfWork. The transaction begins on entry and rolls back on exit unless committed."""

    enrollments: SqlEnrollmentRepository
    audit: SqlAuditTrail
    throttles: SqlThrottleRepository
    recovery_codes: SqlRecoveryCodeRepository
    outbox: SqlOutbox
    idempotency: SqlIdempotencyStore

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None

    async def __aenter__(self) -> Self:
        with translated_errors():
            self._connection = await self._engine.connect()
            try:
                self._transaction = await self._connection.begin()
            except BaseException:
                await self._connection.close()
                raise
        self.enrollments = SqlEnrollmentRepository(self._connection)
        self.audit = SqlAuditTrail(self._connection)
        self.throttles = SqlThrottleRepository(self._connection)
        self.recovery_codes = SqlRecoveryCodeRepository(self._connection)
        self.outbox = SqlOutbox(self._connection)
        self.idempotency = SqlIdempotencyStore(self._connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._connection is not None and self._transaction is not None
        try:
            if self._transaction.is_active:
                await self._transaction.rollback()
        except Exception:
            if exc is None:
                raise
        finally:
            await self._connection.close()

    async def commit(self) -> None:
        assert self._transaction is not None
        with translated_errors():
            await self._transaction.commit()


class SqlUnitOfWorkFactory:
    """Opens units of work on one engine (and so one connection pool)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._engine)
