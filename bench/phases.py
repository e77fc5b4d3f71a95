"""The bench's phases, each on its own service process: the main matrix, an
optional profile under py-spy, and the scale run on a database of its own."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import asyncpg

from bench import profiling, scale, stack
from bench.components import measure_components
from bench.report import RunRecord
from bench.runner import Context, Runner, log, warm_up
from bench.users import VerifyPool, enroll_through_http, mint_users


@dataclass(frozen=True, slots=True)
class Plan:
    concurrency: tuple[int, ...]
    scenarios: tuple[str, ...]
    verify_users: int
    components: bool
    profile: bool
    scale: bool
    scale_users: int
    scale_rows: int
    scale_concurrency: tuple[int, ...]
    scale_repeats: int


def start_service(context: Context, config: stack.ServiceConfig, exits: ExitStack) -> stack.Service:
    workers = context.settings.workers
    log(f"starting the service: {workers} workers, database {config.database}")
    return exits.enter_context(
        stack.running_service(config, workers=workers, log=context.logs / "service.log")
    )


def main_matrix(context: Context, config: stack.ServiceConfig, plan: Plan) -> VerifyPool:
    """Every scenario at every concurrency, concurrency by concurrency, on one service."""
    with ExitStack() as exits:
        service = start_service(context, config, exits)
        pool = VerifyPool([])
        runner = Runner(context, service, pool, "main")
        runner.grow(plan.verify_users)
        warm_up(runner)
        for concurrency in plan.concurrency:
            for scenario in plan.scenarios:
                runner.run(scenario, concurrency)
    return pool


def compare_matrix(
    context: Context,
    configs: Sequence[tuple[str, stack.ServiceConfig]],
    plan: Plan,
    rounds: int,
) -> VerifyPool:
    """Every scenario at every concurrency on one service per revision, all running at once; each
    run alternates the revisions (A B A B…) so that they share the machine's moments alike.
    Returns the last revision's (the head's) pool of enrolled users."""
    with ExitStack() as exits:
        runners = []
        for revision, config in configs:
            service = start_service(context, config, exits)
            runners.append(Runner(context, service, VerifyPool([]), "compare", revision))
        for runner in runners:
            runner.grow(plan.verify_users)
            warm_up(runner)
        for concurrency in plan.concurrency:
            for scenario in plan.scenarios:
                for _ in range(rounds):
                    for runner in runners:
                        runner.run(scenario, concurrency)
    return runners[-1].pool


def components(context: Context, config: stack.ServiceConfig) -> None:
    """The parts of the hot paths one at a time (bench/components.py); a failure is reported,
    not fatal (it reaches into the product's adapters, which may change)."""
    log("measuring the parts of the hot paths one at a time")
    token = context.issuer.mint("bench-components", now=int(time.time()))
    try:
        context.report.components = measure_components(
            config.database, config.vault_addr, config.vault_token, config.jwks_file, token
        )
    except Exception as error:  # reported: the load figures stand on their own
        context.report.errors.append(f"components: {type(error).__name__}: {error}")


def profile(context: Context, config: stack.ServiceConfig, pool: VerifyPool) -> None:
    """Enrollment (SVG, PNG) and verification at concurrency 16 with py-spy attached."""
    py_spy = profiling.find_py_spy()
    with ExitStack() as exits:
        service = start_service(context, config, exits)
        runner = Runner(context, service, pool, "profile")
        warm_up(runner)
        seconds = max(2, context.settings.duration - 1)
        outputs: dict[str, Path] = {}

        def attach(scenario: str, concurrency: int) -> Callable[[], None]:
            output = context.logs / f"py-spy-{scenario}-c{concurrency}.txt"
            outputs[f"{scenario} at concurrency {concurrency}"] = output
            recorder = profiling.start_recording(py_spy, service.pid, seconds, output)
            time.sleep(1)  # py-spy attaches to every worker before the load starts

            def finish() -> None:
                _, errors = recorder.communicate(timeout=60)
                if recorder.returncode != 0:
                    log(f"py-spy failed: {errors.decode(errors='replace')[-500:]}")

            return finish

        runner.on_run_start = attach
        for scenario in ("enroll-svg", "enroll-png", "verify"):
            runner.run(scenario, 16)
        for name, output in outputs.items():
            if output.exists():
                context.report.profiles[name] = profiling.summarise(output)


def scale_run(context: Context, config: stack.ServiceConfig, plan: Plan) -> None:
    """Verification with ``scale_users`` authenticators enrolled through HTTP, then again after
    bulk-loading active authenticators up to ``scale_rows``; every user once per run."""
    with ExitStack() as exits:
        database = exits.enter_context(stack.fresh_database("scale"))
        scale_config = replace(config, database=database)
        stack.migrate(scale_config, context.logs / "migrate.log")
        service = start_service(context, scale_config, exits)
        log(f"scale: enrolling {plan.scale_users} users through HTTP")
        users = mint_users(context.issuer, "bench-scale", plan.scale_users)
        pool = VerifyPool(enroll_through_http(service.url, users))
        runner = Runner(context, service, pool, "scale-small")
        runner.grow_pool = False
        dsn = stack.database_dsn(database)
        small_rows = _count(dsn)
        small = _scale_runs(runner, small_rows, plan)
        bulk_rows = max(0, plan.scale_rows - small_rows)
        log(f"scale: bulk-loading {bulk_rows:,} active authenticators into Postgres")
        large_rows, seconds = scale.bulk_load(dsn, bulk_rows)
        log(f"scale: {large_rows:,} rows in the table, {seconds:.0f} s with VACUUM ANALYZE")
        runner.phase = "scale-large"
        large = _scale_runs(runner, large_rows, plan)
        by_concurrency = {}
        for concurrency in plan.scale_concurrency:
            small_p50 = _median_p50(small, concurrency)
            large_p50 = _median_p50(large, concurrency)
            if small_p50 and large_p50:
                by_concurrency[str(concurrency)] = {
                    "small_p50_ms": small_p50,
                    "large_p50_ms": large_p50,
                    "ratio": large_p50 / small_p50,
                }
        context.report.scale = {
            "http_users": len(pool),
            "small_rows": small_rows,
            "large_rows": large_rows,
            "bulk_rows": bulk_rows,
            "bulk_seconds": seconds,
            "table_size": scale.table_size(dsn),
            "by_concurrency": by_concurrency,
        }


def _median_p50(runs: Sequence[RunRecord], concurrency: int) -> float | None:
    values = [run.latency_ms["p50"] for run in runs if run.concurrency == concurrency]
    return statistics.median(values) if values else None


def _scale_runs(runner: Runner, stored: int, plan: Plan) -> list[RunRecord]:
    """Each run verifies every user once (so each waits for a step the users have not used); it
    may last up to 25 s and ends when the codes are used up."""
    runner.stored_authenticators = stored
    runs = []
    for _ in range(plan.scale_repeats):
        for concurrency in plan.scale_concurrency:
            record = runner.run("verify", concurrency, duration=25)
            if record is not None:
                runs.append(record)
    return runs


def _count(dsn: str) -> int:
    async def count() -> int:
        connection = await asyncpg.connect(dsn, timeout=10)
        try:
            return int(await connection.fetchval("SELECT count(*) FROM enrollments"))
        finally:
            await connection.close()

    return asyncio.run(count())
