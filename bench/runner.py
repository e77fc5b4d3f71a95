"""One measured wrk run of one scenario against one running service, recorded with its CPU costs."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from bench import stack
from bench.load import LoadSpec, WrkResult, run_wrk, threads_for
from bench.procstat import CpuMeter, postgres_processes, usage_between, with_descendants
from bench.report import BenchReport, RunRecord
from bench.users import (
    TokenUser,
    VerifyPool,
    current_step,
    enroll_through_http,
    enrollment_lines,
    step_for_run,
    wait_until_step,
    write_lines,
)

SCENARIOS: Final = ("health", "enroll-svg", "enroll-png", "verify", "verify-wrong")
QUIET_SHARE: Final = 0.15
"""Before a run, wait (up to ``Settings.wait_for_quiet_s``) while other processes keep more than
this share of the machine busy."""


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass(frozen=True, slots=True)
class Settings:
    duration: int
    max_threads: int
    workers: int
    verify_users_max: int
    wait_for_quiet_s: int


@dataclass(slots=True)
class Context:
    """What the runs share: tools, folders, the Vault server, the users and the report."""

    settings: Settings
    wrk: str
    work: Path
    logs: Path
    vault: stack.Vault
    issuer: stack.Issuer
    report: BenchReport
    enroll_users: list[TokenUser] = field(default_factory=list)
    enroll_offset: int = 0
    """Where the next enrollment run starts in ``enroll_users`` (each run takes fresh users)."""
    rates: dict[tuple[str, int], float] = field(default_factory=dict)
    """The best rate measured so far per scenario and concurrency, to size the next verify run's
    one-time codes."""
    verify_subjects: int = 0

    def expected_verify_rate(self, scenario: str, concurrency: int) -> float:
        """A generous guess of the rate of a verify run from what was measured so far."""
        if (scenario, concurrency) in self.rates:
            return self.rates[scenario, concurrency]
        verify = {key: rate for key, rate in self.rates.items() if key[0].startswith("verify")}
        same_level = [rate for (_, level), rate in verify.items() if level == concurrency]
        if same_level:
            return 1.5 * max(same_level)
        below = [rate for (_, level), rate in verify.items() if level < concurrency]
        if below:
            return 1.5 * max(below)
        enrollment = [rate for (_, level), rate in self.rates.items() if level <= concurrency]
        return 1.5 * max(enrollment) if enrollment else 100.0

    def new_verify_users(self, count: int) -> list[TokenUser]:
        first = self.verify_subjects
        self.verify_subjects += count
        now = int(time.time())
        return [
            TokenUser(subject, self.issuer.mint(subject, now=now))
            for subject in (f"bench-verify-{index:07d}" for index in range(first, first + count))
        ]


class Runner:
    """Runs scenarios against one service and appends a record of each to the report."""

    def __init__(
        self,
        context: Context,
        service: stack.Service,
        pool: VerifyPool,
        phase: str,
        revision: str = "",
    ) -> None:
        self.context = context
        self.service = service
        self.pool = pool
        self.phase = phase
        self.revision = revision
        database = service.config.database
        vault_pid = context.vault.pid
        self.meter = CpuMeter(
            {
                "service": lambda: with_descendants(service.pid),
                "vault": lambda: with_descendants(vault_pid),
                "postgres": lambda: postgres_processes(database),
            }
        )
        self.stored_authenticators: int | None = None
        self.grow_pool = True
        """Enroll more users before a verify run that needs more codes than the pool has."""
        self.on_run_start: Callable[[str, int], Callable[[], None]] | None = None
        """Called just before wrk starts; what it returns is called when wrk has ended."""

    def run(self, scenario: str, concurrency: int, duration: int | None = None) -> RunRecord | None:
        settings = self.context.settings
        duration = duration or settings.duration
        self._wait_for_quiet()
        prepared = self._prepare(scenario, concurrency, duration)
        if prepared is None:
            return None
        spec, expected, notes = prepared
        finish = self.on_run_start(scenario, concurrency) if self.on_run_start else None
        before = self.meter.snapshot()
        result = run_wrk(
            self.context.wrk,
            self.service.url,
            spec,
            connections=concurrency,
            threads=threads_for(concurrency, settings.max_threads),
            duration_s=duration,
            log=self.context.logs / "wrk.log",
        )
        after = self.meter.snapshot()
        if finish is not None:
            finish()
        usage = usage_between(before, after)
        record = self._record(scenario, concurrency, expected, result, usage.seconds, notes)
        record.machine_busy_share = usage.machine_busy_share
        record.others_share = usage.others_share(result.wrk_cpu_s)
        record.revision = self.revision
        self._after(scenario, record)
        self.context.report.runs.append(record)
        log(
            f"{(self.revision or self.phase):>12} {scenario:<12} c={concurrency:<3} "
            f"{record.rate:7.0f} req/s  "
            f"p50 {record.latency_ms['p50']:7.2f}  p99 {record.latency_ms['p99']:7.2f} ms  "
            f"n={record.responses:<6} unexpected={record.unexpected:<4} "
            f"other load {record.others_share * 100:3.0f} %"
            + (f"  ({'; '.join(record.notes)})" if record.notes else "")
        )
        time.sleep(1)
        return record

    def grow(self, needed: int) -> None:
        """Enrolls users through HTTP until the pool holds ``needed`` (at most the maximum)."""
        missing = min(needed, self.context.settings.verify_users_max) - len(self.pool)
        if not self.grow_pool or missing <= 0:
            return
        log(f"enrolling {missing} more users through HTTP for the verify runs")
        started = time.monotonic()
        self.pool.add(enroll_through_http(self.service.url, self.context.new_verify_users(missing)))
        log(f"{len(self.pool)} users enrolled ({time.monotonic() - started:.0f} s)")

    def _wait_for_quiet(self) -> None:
        """Waits a while for other people's work on the machine to calm down (shared machines)."""
        deadline = time.monotonic() + self.context.settings.wait_for_quiet_s
        while True:
            before = self.meter.snapshot()
            time.sleep(1)
            share = usage_between(before, self.meter.snapshot()).others_share()
            if share < QUIET_SHARE or time.monotonic() >= deadline:
                return
            log(f"other processes keep {share * 100:.0f} % of the machine busy: waiting")

    def _prepare(
        self, scenario: str, concurrency: int, duration: int
    ) -> tuple[LoadSpec, int, list[str]] | None:
        context = self.context
        lines_file = context.work / f"{scenario}.lines"
        if scenario == "health":
            return LoadSpec("GET", "/health/live"), 200, []
        if scenario in ("enroll-svg", "enroll-png"):
            image = scenario.removeprefix("enroll-")
            body = f'{{"mfaMethod":"totp","qrFormat":"{image}"}}'
            lines = enrollment_lines(context.enroll_users, body, context.enroll_offset)
            write_lines(lines_file, lines)
            return LoadSpec("POST", "/settings/MfaSecret", lines_file), 200, []
        expected_codes = context.expected_verify_rate(scenario, concurrency) * duration * 1.5
        needed = max(200, math.ceil(expected_codes)) if self.grow_pool else len(self.pool)
        self.grow(needed)
        if scenario == "verify":
            step = self._step_with_users(duration, min(needed, len(self.pool)))
            count = write_lines(lines_file, self.pool.valid_lines(step, limit=needed))
            notes = [] if count >= needed else [f"{count} users with a fresh code"]
            return LoadSpec("POST", "/mfa/verify", lines_file, once=True), 200, notes
        if scenario == "verify-wrong":
            count = write_lines(lines_file, self.pool.wrong_lines(current_step(), limit=needed))
            if count == 0:
                log("verify-wrong: every user has had 4 wrong codes; skipped")
                return None
            return LoadSpec("POST", "/mfa/verify", lines_file, once=True), 400, []
        raise ValueError(f"unknown scenario {scenario!r}")

    def _step_with_users(self, duration: int, wanted: int) -> int:
        """A step whose codes last the run and for which about ``wanted`` users are free (waits
        for the next step when too many used this one or were enrolled in it)."""
        step = step_for_run(duration)
        if self.pool.available(step) < wanted / 1.5:
            wait_until_step(step + 1)
            step = step_for_run(duration)
        return step

    def _record(
        self,
        scenario: str,
        concurrency: int,
        expected: int,
        result: WrkResult,
        cpu_seconds: Mapping[str, float],
        notes: list[str],
    ) -> RunRecord:
        answers = max(result.responses, 1)
        cpu = {name: seconds * 1000 / answers for name, seconds in cpu_seconds.items()}
        cpu["wrk"] = result.wrk_cpu_s * 1000 / answers
        exhausted = result.exhausted_threads > 0
        notes = list(notes)
        if exhausted and self.grow_pool:
            notes.append(f"one-time codes used up after {result.active_s:.1f} s")
        if self.stored_authenticators is not None:
            notes.append(f"{self.stored_authenticators:,} stored authenticators")
        return RunRecord(
            phase=self.phase,
            scenario=scenario,
            concurrency=concurrency,
            threads=result.threads,
            expected_status=expected,
            rate=result.rate,
            latency_ms=result.latency_ms,
            responses=result.responses,
            statuses=result.statuses,
            unexpected=result.unexpected(expected),
            socket_errors=result.socket_errors,
            active_s=result.active_s,
            exhausted=exhausted,
            cpu_ms_per_request=cpu,
            machine_busy_share=0.0,
            stored_authenticators=self.stored_authenticators,
            notes=notes,
        )

    def _after(self, scenario: str, record: RunRecord) -> None:
        if scenario.startswith("enroll"):
            self.context.enroll_offset += record.responses
        if scenario != "health" and not record.exhausted:
            key = (scenario, record.concurrency)
            self.context.rates[key] = max(self.context.rates.get(key, 0.0), record.rate)


def warm_up(runner: Runner) -> None:
    """Two seconds of health and enrollment traffic, unrecorded: pools, caches and keys in place.
    (Verification is not warmed: that would use up one-time codes.)"""
    context = runner.context
    body = '{"mfaMethod":"totp","qrFormat":"svg"}'
    lines_file = context.work / "warmup.lines"
    write_lines(lines_file, enrollment_lines(context.enroll_users, body, context.enroll_offset))
    for spec in (
        LoadSpec("GET", "/health/live"),
        LoadSpec("POST", "/settings/MfaSecret", lines_file),
    ):
        result = run_wrk(
            context.wrk,
            runner.service.url,
            spec,
            connections=16,
            threads=threads_for(16, context.settings.max_threads),
            duration_s=2,
            log=context.logs / "wrk.log",
        )
        if spec.lines_file is not None:
            context.enroll_offset += result.responses
