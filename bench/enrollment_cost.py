"""What an enrollment's database work costs the service, two ways, on one fresh Postgres database:
``uv run python -m bench.enrollment_cost``. Not a test: it prints a table and asserts nothing.

An enrollment's database work is ``EnrollmentStarts.room`` (before the step-up, the encryption and
the QR code) and ``EnrollmentStarts.store`` (the start under the user's lock), done

1. by the unit of work's repositories (TransactionalEnrollmentStarts, what every store can do and
   what Postgres did before: two transactions, 4 and 8 to 9 round trips);
2. by PostgresEnrollmentStarts on bare asyncpg (the product on Postgres: one statement, then
   BEGIN, the lock, one statement, COMMIT; each statement prepared once per connection);
3. for comparison only, the same with the start stored by its statement alone, without BEGIN, the
   lock and COMMIT: what those three cost. It is not sound (two starts at once can both pass the
   hourly limit: the statement counts from the snapshot it started with), hence not the product.

Each for a new user (the bench's enrollments) and for a user whose pending enrollment the start
replaces. The ways alternate batch by batch (``--rounds``) in this one process, and each figure is
the median of its batches. CPU is this process's (``time.process_time``): the service's share;
wall time includes the round trips and Postgres' own work. Calls run one after another.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrations.runner import upgrade
from adapters.sqlalchemy.postgres_enrollment_starts import STORE, PostgresEnrollmentStarts
from adapters.sqlalchemy.single_statement import fetch_row
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from application.enrollment_limits import EnrollmentLimits
from application.event_records import EventRecords
from application.ports.audit import RequestContext
from application.ports.enrollment_starts import EnrollmentStarts
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.enrollment_starts import TransactionalEnrollmentStarts
from bench import stack
from domain.enrollment import Enrollment
from domain.mfa_method import MfaMethod
from domain.policy import TotpPolicy

START: Final = datetime(2026, 1, 1, tzinfo=UTC)
CONTEXT: Final = RequestContext("bench-request-id", "127.0.0.1", "bench")
RECORDS: Final = EventRecords()
LIMITS: Final = EnrollmentLimits(max_active=5, max_starts_per_hour=1_000_000)


class StatementAlone(PostgresEnrollmentStarts):
    """The start's write alone in its own implicit transaction: no lock, no room read under it
    (unsound; for the comparison only)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, RECORDS)
        self._statements = engine

    async def store(
        self, enrollment: Enrollment, limits: EnrollmentLimits, context: RequestContext
    ) -> None:
        started, replacement, arguments = self.prepare(enrollment, context)
        stored = await fetch_row(self._statements, STORE, *arguments)
        self.committed(stored, started, replacement)


def _enrollment(user: str, now: datetime) -> Enrollment:
    return Enrollment.start(
        enrollment_id=uuid.uuid4(),
        user_id=user,
        method=MfaMethod.TOTP,
        policy=TotpPolicy(),
        sealed_secret="vault:v1:" + "A" * 120,
        device_name="bench",
        now=now,
        pending_ttl=timedelta(minutes=10),
    )


async def _enroll(starts: EnrollmentStarts, user: str, now: datetime) -> None:
    """One enrollment's database work."""
    await starts.room(user, now, LIMITS)
    await starts.store(_enrollment(user, now), LIMITS, CONTEXT)


def _user(way: str, replacing: bool, call: int) -> str:
    """Users of a way: a new one each call, or 20 users, each replacing its pending enrollment."""
    return f"{way}-again-{call % 20}" if replacing else f"{way}-new-{call}"


async def _batch(
    starts: EnrollmentStarts, calls: int, user_of: Callable[[int], str], first: int
) -> tuple[float, float]:
    """CPU and wall milliseconds per enrollment of ``calls`` enrollments, one after another."""
    cpu, wall = time.process_time(), time.perf_counter()
    for call in range(first, first + calls):
        await _enroll(starts, user_of(call), START + timedelta(milliseconds=call))
    return (
        (time.process_time() - cpu) * 1000 / calls,
        (time.perf_counter() - wall) * 1000 / calls,
    )


async def _measure(engine: AsyncEngine, calls: int, rounds: int) -> list[tuple[str, str]]:
    await upgrade(engine)
    ways: list[tuple[str, EnrollmentStarts]] = [
        (
            "repositories, two transactions (before)",
            TransactionalEnrollmentStarts(
                RecordingUnitsOfWork(SqlUnitOfWorkFactory(engine), RECORDS)
            ),
        ),
        (
            "bare asyncpg, one statement + one transaction (after)",
            PostgresEnrollmentStarts(engine, RECORDS),
        ),
        ("bare asyncpg, two statements, no lock (unsound, for comparison)", StatementAlone(engine)),
    ]
    cases = [("new user", False), ("pending one replaced", True)]
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for index, (_, starts) in enumerate(ways):  # warm up: connections, prepared statements
        await _batch(starts, 50, functools.partial(_user, f"warm-{index}", False), 0)
    for round_ in range(rounds):
        for case, replacing in cases:
            for index, (name, starts) in enumerate(ways):
                users = functools.partial(_user, str(index), replacing)
                batch = await _batch(starts, calls, users, round_ * calls)
                figures.setdefault((case, name), []).append(batch)
    rows = []
    for (case, name), batches in figures.items():
        cpu = statistics.median(b[0] for b in batches)
        wall = statistics.median(b[1] for b in batches)
        spread = f"{min(b[0] for b in batches):.2f} to {max(b[0] for b in batches):.2f}"
        rows.append((f"{case}: {name}", f"{wall:.2f} | {cpu:.2f} | {spread}"))
    return rows


async def _run(database: str, calls: int, rounds: int) -> list[tuple[str, str]]:
    engine = create_engine(stack.database_url(database))
    try:
        return await _measure(engine, calls, rounds)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="enrollments per batch")
    parser.add_argument("--rounds", type=int, default=5, help="batches of each way, alternating")
    arguments = parser.parse_args()
    with stack.fresh_database("enrollments") as database:
        rows = asyncio.run(_run(database, arguments.calls, arguments.rounds))
    print(
        f"| an enrollment's database work ({arguments.calls} per batch, {arguments.rounds} "
        "batches each, interleaved) | wall ms | CPU ms (median) | CPU ms (batches) |"
    )
    print("|---|--:|--:|--:|")
    for name, figures in rows:
        print(f"| {name} | {figures} |")


if __name__ == "__main__":
    main()
