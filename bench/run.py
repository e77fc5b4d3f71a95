"""The benchmark: ``uv run python -m bench.run`` (``make bench``). Not a test: it asserts nothing.

Starts the production stack on this machine (bench/stack.py), enrolls users through HTTP, drives
load with wrk at each concurrency level for each scenario (health, enrollment with an SVG and a PNG
QR code, verification with valid and with wrong codes), measures the CPU time of every process
involved, runs verification with 1,000 and with 1,000,000
stored authenticators, and writes bench/results/bench-<time>.{json,md,png} and latest.*.
Everything it started is stopped at the end, also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from bench import checkout, phases, stack
from bench.load import ensure_wrk, wrk_version
from bench.procstat import Machine
from bench.report import BenchReport, relate_to_health, write
from bench.runner import SCENARIOS, Context, Settings, log
from bench.users import mint_users

RESULTS = Path(__file__).resolve().parent / "results"
QUICK = {
    "duration": 3,
    "enroll_users": 2000,
    "verify_users": 300,
    "verify_users_max": 3000,
    "scale_users": 300,
    "scale_rows": 50_000,
    "scale_repeats": 1,
}
"""--quick: a smoke run of a few minutes (explicit options still win)."""
COMPARE = {"concurrency": "16,64,256", "no_scale": True, "duration": 5}
"""--base-ref: the levels of issue 13's targets, short runs, no scale run (explicit options win)."""


@dataclass(frozen=True, slots=True)
class Options:
    settings: Settings
    plan: phases.Plan
    enroll_users: int
    results: Path
    keep_work: bool
    base_ref: str
    """A git reference to compare the head with (empty: measure the head only)."""
    rounds: int
    log_level: str


def _levels(text: str) -> tuple[int, ...]:
    return tuple(int(level) for level in text.split(",") if level)


def parse_options(argv: Sequence[str] | None) -> Options:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark of the MFA service on the production stack of this machine.",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (10, max 25)")
    parser.add_argument("--concurrency", default="1,16,64", help="connections (1,16,64)")
    parser.add_argument("--threads", type=int, default=2, help="most wrk threads per run (2)")
    parser.add_argument("--workers", type=int, default=cores, help=f"service workers ({cores})")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=",".join(SCENARIOS))
    parser.add_argument("--enroll-users", type=int, default=20000, help="tokens for enrollment")
    parser.add_argument(
        "--verify-users",
        type=int,
        default=1000,
        help="users enrolled through HTTP for the verify runs at the start (1000); more are "
        "enrolled before a run expected to need more one-time codes, up to --verify-users-max",
    )
    parser.add_argument("--verify-users-max", type=int, default=20000)
    parser.add_argument("--no-scale", action="store_true", help="skip the scale run")
    parser.add_argument(
        "--scale", dest="no_scale", action="store_false", help="the scale run also with --base-ref"
    )
    parser.add_argument("--scale-users", type=int, default=1000, help="enrolled through HTTP")
    parser.add_argument("--scale-rows", type=int, default=1_000_000, help="stored in the end")
    parser.add_argument("--scale-concurrency", default="1,16")
    parser.add_argument("--scale-repeats", type=int, default=2, help="runs per size (2)")
    parser.add_argument(
        "--no-components", action="store_true", help="skip timing the parts one at a time"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also run enrollment and verify at 16 under py-spy (`uv pip install py-spy`)",
    )
    parser.add_argument(
        "--wait-for-quiet",
        type=int,
        default=10,
        metavar="SECONDS",
        help="before each run, wait up to this long while other processes keep the machine "
        "busy (10; 0: never wait)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--keep-work", action="store_true", help="keep the tokens and lines files")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few minutes")
    parser.add_argument(
        "--base-ref",
        default="",
        metavar="REF",
        help="compare with this commit (make bench BASE_REF=…): checked out in a temporary git "
        "worktree, both services on the same stack, runs interleaved base, head, base, head…",
    )
    parser.add_argument("--rounds", type=int, default=2, help="runs per revision with --base-ref")
    parser.add_argument(
        "--log-level", default="", help="MFA_LOG_LEVEL of the service (the product's default)"
    )
    arguments = sys.argv[1:] if argv is None else argv
    if "--quick" in arguments:
        parser.set_defaults(**QUICK)
    if any(argument.startswith("--base-ref") for argument in arguments):
        parser.set_defaults(**COMPARE)
    args = parser.parse_args(argv)
    scenarios = tuple(name for name in args.scenarios.split(",") if name)
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if not 1 <= args.duration <= 25:
        parser.error("--duration: 1 to 25 s (one-time codes must stay valid for a whole run)")
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds: 1 to 10")
    comparing = bool(args.base_ref)
    return Options(
        settings=Settings(
            duration=args.duration,
            max_threads=args.threads,
            workers=args.workers,
            verify_users_max=args.verify_users_max,
            wait_for_quiet_s=args.wait_for_quiet,
        ),
        plan=phases.Plan(
            concurrency=_levels(args.concurrency),
            scenarios=scenarios,
            verify_users=args.verify_users,
            components=not args.no_components and not comparing,
            profile=args.profile,
            scale=not args.no_scale,
            scale_users=args.scale_users,
            scale_rows=args.scale_rows,
            scale_concurrency=_levels(args.scale_concurrency),
            scale_repeats=args.scale_repeats,
        ),
        enroll_users=args.enroll_users,
        results=args.results,
        keep_work=args.keep_work,
        base_ref=args.base_ref,
        rounds=args.rounds,
        log_level=args.log_level.upper(),
    )


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP end the bench like Ctrl-C does: everything started gets stopped."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _new_report(options: Options, started_at: datetime, wrk: str) -> BenchReport:
    settings, plan = options.settings, options.plan
    return BenchReport(
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at="",
        complete=False,
        machine=Machine.describe(),
        settings={
            "workers": settings.workers,
            "duration_s": settings.duration,
            "concurrency": ",".join(map(str, plan.concurrency)),
            "wrk_threads_max": settings.max_threads,
            "enroll_users": options.enroll_users,
            "verify_users_at_start": plan.verify_users,
            "log_level": options.log_level or "the product's default",
            "head": checkout.head_title(),
            **({"base": options.base_ref, "rounds": options.rounds} if options.base_ref else {}),
        },
        versions={"Python": platform.python_version(), "wrk": wrk_version(wrk).split(" [")[0]},
    )


def _measure(
    options: Options,
    context: Context,
    config: stack.ServiceConfig,
    base: stack.ServiceConfig | None,
) -> None:
    plan = options.plan
    log(f"minting tokens for {options.enroll_users} enrollment users")
    context.enroll_users = mint_users(context.issuer, "bench-enroll", options.enroll_users)
    if base is None:
        pool = phases.main_matrix(context, config, plan)
    else:
        revisions = [("base", base), ("head", config)]
        pool = phases.compare_matrix(context, revisions, plan, options.rounds)
    if plan.components:
        phases.components(context, config)
    if plan.profile:
        phases.profile(context, config, pool)
    if plan.scale:
        phases.scale_run(context, config, plan)


def _base_config(
    reference: str, head: stack.ServiceConfig, logs: Path, exits: ExitStack
) -> tuple[stack.ServiceConfig, str]:
    """The base revision checked out and installed, on a database of its own migrated by its own
    ``mfa-service migrate``; the same Vault key and identity provider as the head."""
    log(f"checking out {reference} in a temporary git worktree; uv sync --frozen there")
    base = exits.enter_context(checkout.base_checkout(reference, logs / "base-checkout.log"))
    log(f"base: {base.title}")
    database = exits.enter_context(stack.fresh_database("base"))
    config = replace(head, database=database, checkout=base.path, data_dir=head.data_dir / "base")
    stack.migrate(config, logs / "migrate-base.log")
    return config, base.title


def run(options: Options) -> int:
    started_at = datetime.now(UTC)
    stem = f"bench-{started_at.strftime('%Y%m%dT%H%M%SZ')}"
    logs = options.results / f"{stem}-logs"
    work = logs / "work"
    work.mkdir(parents=True)
    wrk = ensure_wrk()
    report = _new_report(options, started_at, wrk)
    code = 1
    with signals_interrupt(), ExitStack() as exits:
        try:
            exits.enter_context(stack.postgres_server(logs / "postgres.log"))
            report.versions["Postgres"] = stack.postgres_version()
            log("starting the Vault dev server")
            vault = exits.enter_context(stack.vault_dev_server(work))
            report.versions["OpenBao"] = vault.version
            issuer = stack.Issuer(work / "jwks.json")
            database = exits.enter_context(stack.fresh_database("main"))
            config = stack.ServiceConfig(
                database=database,
                vault_addr=vault.addr,
                vault_token="",
                jwks_file=issuer.jwks_file,
                data_dir=work / "data",
                log_level=options.log_level,
            )
            log("mfa-service vault-setup, the service's policy and token; mfa-service migrate")
            token = stack.vault_setup(vault, config.environment(), logs / "vault-setup.log")
            config = replace(config, vault_token=token)
            stack.migrate(config, logs / "migrate.log")
            base = None
            if options.base_ref:
                base, title = _base_config(options.base_ref, config, logs, exits)
                report.settings["base"] = f"{options.base_ref} = {title}"
            context = Context(options.settings, wrk, work, logs, vault, issuer, report)
            _measure(options, context, config, base)
            report.complete = True
            code = 0
        except KeyboardInterrupt:
            report.errors.append("interrupted")
            log("interrupted: stopping everything")
            code = 130
        except Exception as error:  # the report still shows what was measured
            report.errors.append(f"{type(error).__name__}: {error}")
            traceback.print_exc()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)  # let the clean-up below finish
            log("stopping the service, Vault and dropping the databases")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    relate_to_health(report)
    report.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    if not options.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    if report.runs:
        for path in write(report, options.results, stem):
            log(f"wrote {path}")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_options(argv))


if __name__ == "__main__":
    sys.exit(main())
