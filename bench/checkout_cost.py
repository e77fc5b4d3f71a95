"""What one statement of the Postgres checks costs the service, this revision's
``adapters/sqlalchemy/single_statement.py`` against another's, in one process:
``uv run python -m bench.checkout_cost --base-ref <git ref>``. Not a test: it prints a table and
asserts nothing.

Both run ``SELECT 1`` through ``fetch`` on the same engine, measured as the service measures it
(``measure_engine``), so the difference is the pool checkout and check-in around the statement.
The revisions alternate, batch by batch; CPU is this process's (``time.process_time``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import types
from collections.abc import Awaitable, Callable
from typing import Final

import uvloop

from bench import stack
from bench.checkout import git_output

MODULE: Final = "adapters/sqlalchemy/single_statement.py"

Fetch = Callable[..., Awaitable[object]]


def _module_at(ref: str) -> types.ModuleType:
    """``MODULE`` as it was at ``ref``, imported beside this revision's (its imports resolve to
    this revision's modules: both must speak the same errors)."""
    source = git_output("show", f"{ref}:{MODULE}")
    module = types.ModuleType(f"single_statement_at_{ref}")
    exec(compile(source, f"{ref}:{MODULE}", "exec"), module.__dict__)  # noqa: S102 (our own code)
    return module


async def _cpu_per_call(fetch: Fetch, engine: object, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        await fetch(engine, "SELECT 1")
    return (time.process_time() - started) * 1e6 / calls


async def _measure(database: str, base_ref: str, calls: int, rounds: int) -> None:
    # Imported here, once PROMETHEUS_MULTIPROC_DIR is set (prometheus_client reads it at import).
    from adapters.prometheus.database import measure_engine
    from adapters.sqlalchemy import single_statement
    from adapters.sqlalchemy.engine import create_engine

    engine = create_engine(stack.database_url(database))
    measure_engine(engine, "postgresql")
    ways = {base_ref: _module_at(base_ref).fetch, "head": single_statement.fetch}
    costs: dict[str, list[float]] = {name: [] for name in ways}
    try:
        for fetch in ways.values():
            await _cpu_per_call(fetch, engine, 100)  # connections made, statements prepared
        for _ in range(rounds):
            for name, fetch in ways.items():
                costs[name].append(await _cpu_per_call(fetch, engine, calls))
    finally:
        await engine.dispose()
    base = statistics.median(costs[base_ref])
    print(f"CPU per `SELECT 1` through fetch, µs (median of {rounds} batches of {calls})")
    print("| revision | median | batches |")
    print("|---|--:|---|")
    for name, values in costs.items():
        batches = ", ".join(f"{value:.0f}" for value in values)
        print(f"| {name} | {statistics.median(values):.0f} | {batches} |")
    print(f"head/base: {statistics.median(costs['head']) / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-ref", required=True, help="the revision to compare with")
    parser.add_argument("--calls", type=int, default=1000, help="statements per batch")
    parser.add_argument("--rounds", type=int, default=7, help="batches of each, alternating")
    arguments = parser.parse_args()
    # The service's metrics are multiprocess (every worker writes its own files).
    with (
        tempfile.TemporaryDirectory(prefix="mfa-bench-metrics-") as metrics,
        stack.fresh_database("checkout") as database,
    ):
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics)
        uvloop.run(_measure(database, arguments.base_ref, arguments.calls, arguments.rounds))


if __name__ == "__main__":
    main()
