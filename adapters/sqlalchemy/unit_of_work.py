"""A unit of work as one database transaction on one pooled connection."""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.audit_trail import SqlAuditTrail
from adapters.sqlalchemy.enrollment_repository import SqlEnrollmentRepository
from adapters.sqlalchemy.idempotency_store import SqlIdempotencyStore
from adapters.sqlalchemy.outbox import SqlOutbox
from adapters.sqlalchemy.recovery_code_repository import SqlRecoveryCodeRepository
from adapters.sqlalchemy.throttle_repository import SqlThrottleRepository
from adapters.sqlalchemy.transaction import Transaction
from adapters.sqlalchemy.user_data import SqlUserDataRepository
from application.errors import DependencyUnavailable


class SqlUnitOfWork:
    """Implements UnitOfWork. The transaction begins on entry and rolls back on exit unless committed."""

    enrollments: SqlEnrollmentRepository
    audit: SqlAuditTrail
    throttles: SqlThrottleRepository
    recovery_codes: SqlRecoveryCodeRepository
    outbox: SqlOutbox
    idempotency: SqlIdempotencyStore
    users: SqlUserDataRepository

    def __init__(self, engine: AsyncEngine) -> None:
        self._transaction = Transaction(engine)

    async def __aenter__(self) -> Self:
        await self._transaction.open()
        transaction = self._transaction
        self.enrollments = SqlEnrollmentRepository(transaction)
        self.audit = SqlAuditTrail(transaction)
        self.throttles = SqlThrottleRepository(transaction)
        self.recovery_codes = SqlRecoveryCodeRepository(transaction)
        self.outbox = SqlOutbox(transaction)
        self.idempotency = SqlIdempotencyStore(transaction)
        self.users = SqlUserDataRepository(transaction)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            await self._transaction.close()
            return
        with contextlib.suppress(DependencyUnavailable):  # the error in flight says more
            await self._transaction.close()

    async def commit(self) -> None:
        await self._transaction.commit()


class SqlUnitOfWorkFactory:
    """Opens units of work on one engine (and so one connection pool)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._engine)
