"""What storing an accepted code costs the service, three ways, on one fresh Postgres database:
``uv run python -m bench.statement_cost``. Not a test: it prints a table and asserts nothing.

1. the unit of work's repositories in one transaction (TransactionalCodeAcceptance: BEGIN, five
   statements, COMMIT: what every store can do);
2. the same unit as one statement (postgres_checks.ACCEPT) through SQLAlchemy Core, text() on a
   connection in AUTOCOMMIT (one round trip);
3. that statement on bare asyncpg (PostgresCodeAcceptance: one round trip, prepared once per
   connection).

CPU is this process's (``time.process_time``): the service's share; wall time includes the round
trips and Postgres' own work. Calls run one after another.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrations.runner import upgrade
from adapters.sqlalchemy.postgres_checks import ACCEPT, PostgresCodeAcceptance
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from application.event_records import Acting, EventRecords
from application.ports.audit import RequestContext
from application.ports.code_acceptance import CodeAcceptance
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.code_acceptance import TransactionalCodeAcceptance
from bench import stack
from domain.enrollment import CodeMatch, Enrollment
from domain.mfa_method import MfaMethod
from domain.policy import TotpPolicy

CALLS: Final = 400
START: Final = datetime(2026, 1, 1, tzinfo=UTC)
CONTEXT: Final = RequestContext("bench-request-id", "127.0.0.1", "bench")
RECORDS: Final = EventRecords()


async def _authenticator(factory: SqlUnitOfWorkFactory, user: str) -> Enrollment:
    enrollment = Enrollment.start(
        enrollment_id=uuid.uuid4(),
        user_id=user,
        method=MfaMethod.TOTP,
        policy=TotpPolicy(),
        sealed_secret="vault:v1:bench",  # noqa: S106 - not a secret
        device_name="bench",
        now=START,
        pending_ttl=timedelta(minutes=10),
    )
    enrollment.confirm(CodeMatch(step=1, offset=0, replayed=False), START)
    async with factory() as uow:
        await uow.enrollments.add(enrollment)
        await uow.throttles.lock(user)
        await uow.commit()
    enrollment.collect_events()  # set up unrecorded, as if loaded afresh
    return enrollment


def _next_use(enrollment: Enrollment) -> RequestContext:
    step = (enrollment.last_used_step or 0) + 1
    now = START + timedelta(seconds=30 * step)
    enrollment.record_use(CodeMatch(step=step, offset=0, replayed=False), now, 2)
    return CONTEXT


class CoreAcceptance:
    """postgres_checks.ACCEPT through SQLAlchemy Core (for the comparison only)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        numbered = ACCEPT
        for index in range(11, 0, -1):
            numbered = numbered.replace(f"${index}", f":p{index}")
        self._statement = sa.text(numbered)

    async def accept(self, authenticator: Enrollment, context: RequestContext) -> int:
        [event] = RECORDS.of(authenticator.collect_events(), Acting(context)).audit
        values = (
            authenticator.user_id,
            authenticator.id,
            authenticator.last_used_step,
            authenticator.last_used_at,
            authenticator.drift_steps,
            event.action.value,
            context.request_id,
            context.client_address,
            context.user_agent,
            event.detail,
            event.occurred_at,
        )
        async with self._engine.connect() as connection:
            result = await connection.execute(
                self._statement, {f"p{n}": value for n, value in enumerate(values, 1)}
            )
            row = result.one()
        return int(row.remaining)


async def _cost(
    accept: Callable[[Enrollment, RequestContext], Awaitable[int]], item: Enrollment
) -> str:
    for _ in range(20):
        await accept(item, _next_use(item))
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(CALLS):
        await accept(item, _next_use(item))
    cpu_ms = (time.process_time() - cpu) * 1000 / CALLS
    wall_ms = (time.perf_counter() - wall) * 1000 / CALLS
    return f"{wall_ms:.2f} | {cpu_ms:.3f}"


async def _measure(database: str) -> list[tuple[str, str]]:
    engine = create_engine(stack.database_url(database))
    try:
        await upgrade(engine)
        factory = SqlUnitOfWorkFactory(engine)
        ways: list[tuple[str, CodeAcceptance]] = [
            (
                "repositories, one transaction (7 round trips)",
                TransactionalCodeAcceptance(RecordingUnitsOfWork(factory, RECORDS)),
            ),
            ("one statement, SQLAlchemy Core text(), AUTOCOMMIT", CoreAcceptance(engine)),
            ("one statement, bare asyncpg (the product)", PostgresCodeAcceptance(engine, RECORDS)),
        ]
        rows = []
        for index, (name, way) in enumerate(ways * 2):  # twice, interleaved: the second counts
            figures = await _cost(way.accept, await _authenticator(factory, f"user-{index}"))
            if index >= len(ways):
                rows.append((name, figures))
        return rows
    finally:
        await engine.dispose()


def main() -> None:
    with stack.fresh_database("statements") as database:
        rows = asyncio.run(_measure(database))
    print(f"| storing an accepted code ({CALLS} calls, sequential) | wall ms | CPU ms |")
    print("|---|--:|--:|")
    for name, figures in rows:
        print(f"| {name} | {figures} |")


if __name__ == "__main__":
    main()
