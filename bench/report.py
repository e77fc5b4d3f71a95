"""The bench's results: one record per wrk run, written as JSON, a Markdown table and a PNG chart."""

from __future__ import annotations

import json
import shutil
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.components import Cost
from bench.procstat import Machine
from bench.profiling import ProfileSummary

SCENARIO_TITLES = {
    "health": "GET /health/live",
    "enroll-svg": "POST /settings/MfaSecret (SVG)",
    "enroll-png": "POST /settings/MfaSecret (PNG)",
    "verify": "POST /mfa/verify (valid code)",
    "verify-wrong": "POST /mfa/verify (wrong code, 400 expected)",
}


@dataclass(slots=True)
class RunRecord:
    phase: str
    """``main``, ``scale-1k``, ``scale-1M``, ``profile``."""
    scenario: str
    concurrency: int
    threads: int
    expected_status: int
    rate: float
    latency_ms: dict[str, float]
    responses: int
    statuses: dict[str, int]
    unexpected: int
    socket_errors: dict[str, int]
    active_s: float
    exhausted: bool
    """A one-time-code run that used every prepared line before its duration was up."""
    cpu_ms_per_request: dict[str, float]
    machine_busy_share: float
    others_share: float = 0.0
    """Share of the machine busy with processes outside the stack and wrk (other people's work)."""
    stored_authenticators: int | None = None
    notes: list[str] = field(default_factory=list)
    revision: str = ""
    """``base`` or ``head`` in a comparison of two commits (``--base-ref``); empty otherwise."""
    service_cpu_x_health: float | None = None
    """Service CPU per request as a multiple of ``GET /health/live``'s in the same run (same
    service, same concurrency when measured, else the nearest): the framework's floor."""

    @property
    def ok(self) -> bool:
        return self.unexpected == 0 and self.responses > 0

    @property
    def good_rate(self) -> float:
        """Answers with the expected status per second (shed and failed answers left out)."""
        good = self.statuses.get(str(self.expected_status), 0)
        return self.rate * good / self.responses if self.responses else 0.0

    @property
    def shed(self) -> int:
        """503 answers with ``Retry-After``: load shed on purpose (stats.lua counts a 503 without
        it under another key)."""
        return self.statuses.get("503", 0)

    @property
    def refused_badly(self) -> int:
        """Unexpected answers other than shed load: the overload rule allows none."""
        return self.unexpected - (self.shed if self.expected_status != 503 else 0)


@dataclass(slots=True)
class BenchReport:
    started_at: str
    finished_at: str
    complete: bool
    machine: Machine
    settings: dict[str, Any]
    versions: dict[str, str]
    runs: list[RunRecord] = field(default_factory=list)
    scale: dict[str, Any] = field(default_factory=dict)
    components: list[Cost] = field(default_factory=list)
    profiles: dict[str, ProfileSummary] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def find(self, phase: str, scenario: str, concurrency: int) -> RunRecord | None:
        for run in self.runs:
            if (run.phase, run.scenario, run.concurrency) == (phase, scenario, concurrency):
                return run
        return None


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _row(run: RunRecord) -> str:
    cpu = run.cpu_ms_per_request
    errors = "0" if run.unexpected == 0 else f"**{run.unexpected}** ({_statuses(run)})"
    notes = "; ".join(run.notes)
    return (
        f"| {run.revision + ': ' if run.revision else ''}"
        f"{SCENARIO_TITLES.get(run.scenario, run.scenario)} | {run.concurrency} "
        f"| {run.rate:,.0f} | {_ms(run.latency_ms.get('p50'))} | {_ms(run.latency_ms.get('p95'))} "
        f"| {_ms(run.latency_ms.get('p99'))} | {run.responses:,} | {errors} "
        f"| {cpu.get('service', 0):.2f} | {_multiple(run.service_cpu_x_health)} "
        f"| {cpu.get('vault', 0):.2f} | {cpu.get('postgres', 0):.2f} "
        f"| {cpu.get('wrk', 0):.2f} | {run.machine_busy_share * 100:.0f} % "
        f"| {run.others_share * 100:.0f} % | {notes} |"
    )


def _multiple(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def relate_to_health(report: BenchReport) -> None:
    """Fills every run's ``service_cpu_x_health`` from the health runs of the same phase and
    revision (the median of those at the nearest concurrency)."""
    for run in report.runs:
        health = [
            other
            for other in report.runs
            if (other.phase, other.revision, other.scenario) == (run.phase, run.revision, "health")
        ]
        if not health:
            continue
        level = min((other.concurrency for other in health), key=lambda c: abs(c - run.concurrency))
        floor = statistics.median(
            other.cpu_ms_per_request.get("service", 0.0)
            for other in health
            if other.concurrency == level
        )
        if floor > 0:
            run.service_cpu_x_health = run.cpu_ms_per_request.get("service", 0.0) / floor


def _statuses(run: RunRecord) -> str:
    parts = [f"{status}: {count}" for status, count in sorted(run.statuses.items())]
    parts += [f"{kind}: {count}" for kind, count in run.socket_errors.items() if count]
    return ", ".join(parts)


TABLE_HEADER = (
    "| scenario | conc. | req/s | p50 ms | p95 ms | p99 ms | requests | errors "
    "| service CPU ms/req | service CPU x health | Vault CPU ms/req | Postgres CPU ms/req "
    "| wrk CPU ms/req | machine busy | other load | notes |\n"
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
)


def _target_lines(report: BenchReport) -> list[str]:
    lines = []
    enroll = report.find("main", "enroll-svg", 16)
    enroll_png = report.find("main", "enroll-png", 16)
    verify = report.find("main", "verify", 16)

    def verdict(run: RunRecord | None, rate: float, p99: float, what: str) -> str:
        if run is None:
            return f"- {what}: not measured"
        met = run.rate >= rate and run.latency_ms["p99"] <= p99 and run.ok
        return (
            f"- {what} at concurrency 16: {run.rate:,.0f} req/s (target ≥ {rate:,.0f}), "
            f"p99 {run.latency_ms['p99']:.1f} ms (target ≤ {p99:.0f}) — "
            f"{'**met**' if met else '**not met**'}"
        )

    lines.append(verdict(enroll, 400, 60, "Enrollment with QR (SVG)"))
    lines.append(verdict(enroll_png, 400, 60, "Enrollment with QR (PNG)"))
    lines.append(verdict(verify, 1200, 30, "Verification"))
    scale = report.scale
    by_concurrency: dict[str, dict[str, float]] = scale.get("by_concurrency", {})
    for concurrency, figures in by_concurrency.items():
        ratio = figures["ratio"]
        lines.append(
            f"- Verification p50 at {scale['large_rows']:,} stored authenticators against "
            f"{scale['small_rows']:,}, concurrency {concurrency}: {figures['large_p50_ms']:.1f} / "
            f"{figures['small_p50_ms']:.1f} ms = x{ratio:.2f} (target <= 1.2) — "
            f"{'**met**' if ratio <= 1.2 else '**not met**'}"
        )
    if not by_concurrency:
        lines.append("- Verification p50 at 1M / at 1k stored authenticators: not measured")
    return lines


def _other_load_note(report: BenchReport) -> list[str]:
    measured = [run for run in report.runs if run.phase != "profile"]
    if not measured:
        return []
    average = sum(run.others_share for run in measured) / len(measured)
    if average < 0.05:
        return []
    return [
        f"**Other processes kept on average {average * 100:.0f} % of the machine busy during the "
        "runs** (column 'other load'): the figures are lower than on a quiet machine.",
        "",
    ]


def _has_main(report: BenchReport) -> bool:
    return any(run.phase == "main" for run in report.runs)


def markdown(report: BenchReport) -> str:
    from bench import comparison  # it builds on this module's records

    machine = report.machine
    settings = report.settings
    out = [
        f"# MFA service benchmark — {report.started_at[:10]}",
        "",
        f"Machine: {machine.cpu_model}, {machine.cores} cores, {machine.memory_gib:g} GiB RAM, "
        f"Linux {machine.kernel}. Postgres, Vault (OpenBao dev server), the service "
        f"({settings.get('workers')} uvicorn workers, production profile) and the load generator "
        f"(wrk, closed loop) all on this machine. {settings.get('duration_s')} s per run; started "
        f"{report.started_at}, finished {report.finished_at}"
        + ("" if report.complete else " — **incomplete run**")
        + ".",
        "",
        f"Versions: {', '.join(f'{name} {value}' for name, value in report.versions.items())}.",
        "",
        *_other_load_note(report),
        *comparison.section(report),
        *(["## Targets", "", *_target_lines(report), ""] if _has_main(report) else []),
        "## All runs",
        "",
        "CPU per request: CPU seconds used during the run by the service (uvicorn master and "
        "workers), the Vault server, the Postgres processes of the bench's database (plus the "
        "server's WAL writer, checkpointer and background writer, which serve every database on "
        "the server) and wrk, divided by the "
        "answers. Machine busy: share of both cores busy during the run. Errors: answers with "
        "another status than expected, and socket errors. Other load: share of the machine busy with "
        "processes outside the stack and wrk (anything else running on the machine meanwhile).",
        "",
        TABLE_HEADER,
        *(_row(run) for run in report.runs if run.phase in ("main", "compare")),
    ]
    if report.scale:
        scale = report.scale
        out += [
            "",
            "## Scale: verification with few and with many stored authenticators",
            "",
            f"{scale.get('http_users')} users enrolled through HTTP, then "
            f"{scale.get('bulk_rows', 0):,} active authenticators of random users bulk-loaded "
            f"(INSERT ... SELECT generate_series, VACUUM ANALYZE, CHECKPOINT: "
            f"{scale.get('bulk_seconds', 0):.0f} s); the table with its indexes: "
            f"{scale.get('table_size', '?')}. Each run verifies every HTTP-enrolled user once.",
            "",
            TABLE_HEADER,
            *(_row(run) for run in report.runs if run.phase.startswith("scale")),
            "",
        ]
        for concurrency, figures in scale.get("by_concurrency", {}).items():
            out.append(
                f"- concurrency {concurrency}: p50 {figures['small_p50_ms']:.2f} ms at "
                f"{scale['small_rows']:,} rows, {figures['large_p50_ms']:.2f} ms at "
                f"{scale['large_rows']:,} rows: **x{figures['ratio']:.2f}**"
            )
    if report.components:
        out += [
            "",
            "## The parts one at a time (service side, sequential, in-process)",
            "",
            "The product's own adapters called in a loop against the same Vault and Postgres; CPU "
            "is the calling process's (all its threads). The last line is not the product: the "
            "same database work on bare asyncpg in two transactions, as a bound.",
            "",
            "| part | wall ms | CPU ms |",
            "|---|--:|--:|",
            *(
                f"| {cost.part} | {cost.wall_ms:.2f} | {cost.cpu_ms:.2f} |"
                for cost in report.components
            ),
        ]
    profiled = [run for run in report.runs if run.phase == "profile"]
    if report.profiles:
        out += ["", "## Where the service's CPU time goes (py-spy, on-CPU samples)", ""]
        if profiled:
            out += [TABLE_HEADER, *(_row(run) for run in profiled), ""]
        for name, summary in report.profiles.items():
            out += [
                f"### {name} ({summary.samples:,} samples"
                + (
                    f"; {summary.starting:,} of a restarted worker's imports left out)"
                    if summary.starting
                    else ")"
                ),
                "",
                "| part | share |",
                "|---|--:|",
            ]
            out += [f"| {part} | {share * 100:.1f} % |" for part, share in summary.categories]
            out += ["", "Top functions (self):", ""]
            out += [
                f"- {share * 100:.1f} % {function}" for function, share in summary.top_self[:10]
            ]
            out += ["", "The project's functions, callees included:", ""]
            out += [
                f"- {share * 100:.1f} % {function}" for function, share in summary.top_inclusive
            ]
            out += [""]
    if report.errors:
        out += ["", "## Errors", "", *(f"- {error}" for error in report.errors)]
    out += [
        "",
        "Settings: " + ", ".join(f"{key}={value}" for key, value in settings.items()),
        "",
    ]
    return "\n".join(out)


def chart(report: BenchReport, path: Path) -> str | None:
    """Throughput and p99 by concurrency for the main runs; returns why not when it cannot."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (add it to the dev dependencies): no chart"
    main = [run for run in report.runs if run.phase == "main"] or [
        run for run in report.runs if run.phase == "compare" and run.revision == "head"
    ]
    if not main:
        return "no runs to chart"
    scenarios = [name for name in SCENARIO_TITLES if any(run.scenario == name for run in main)]
    figure, (rates, tails) = plt.subplots(1, 2, figsize=(12, 4.8))
    for scenario in scenarios:
        runs = sorted(
            (run for run in main if run.scenario == scenario), key=lambda r: r.concurrency
        )
        levels = [run.concurrency for run in runs]
        label = SCENARIO_TITLES[scenario]
        rates.plot(levels, [run.rate for run in runs], marker="o", label=label)
        tails.plot(levels, [run.latency_ms["p99"] for run in runs], marker="o", label=label)
    for value, label in ((400, "enrollment target"), (1200, "verification target")):
        rates.axhline(value, color="grey", linestyle="--", linewidth=0.8)
        rates.annotate(label, (1, value), fontsize=7, color="grey", va="bottom")
    for value, label in ((60, "enrollment target (c16)"), (30, "verification target (c16)")):
        tails.axhline(value, color="grey", linestyle="--", linewidth=0.8)
        tails.annotate(label, (1, value), fontsize=7, color="grey", va="bottom")
    for axis, title, unit in ((rates, "Throughput", "requests/s"), (tails, "p99 latency", "ms")):
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("concurrent connections")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        levels = sorted({run.concurrency for run in main})
        axis.set_xticks(levels, [str(level) for level in levels])
    rates.legend(fontsize=7, loc="center right")
    machine = report.machine
    figure.suptitle(
        f"MFA service, {report.settings.get('workers')} workers — {machine.cpu_model}, "
        f"{machine.cores} cores — {report.started_at[:10]}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None


def load(path: Path) -> BenchReport:
    """A report written by :func:`write` (its JSON file), to render it again."""
    document: dict[str, Any] = json.loads(path.read_text())
    return BenchReport(
        started_at=document["started_at"],
        finished_at=document["finished_at"],
        complete=document["complete"],
        machine=Machine(**document["machine"]),
        settings=document["settings"],
        versions=document["versions"],
        runs=[RunRecord(**run) for run in document["runs"]],
        scale=document["scale"],
        profiles={
            name: ProfileSummary(
                samples=summary["samples"],
                categories=[tuple(pair) for pair in summary["categories"]],
                top_self=[tuple(pair) for pair in summary["top_self"]],
                top_inclusive=[tuple(pair) for pair in summary["top_inclusive"]],
                starting=summary.get("starting", 0),
            )
            for name, summary in document["profiles"].items()
        },
        components=[Cost(**cost) for cost in document.get("components", [])],
        errors=document["errors"],
    )


def write(report: BenchReport, directory: Path, stem: str) -> list[Path]:
    """Writes ``stem``.json, .md and .png into ``directory``; a complete run's also to
    ``latest.*``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    json_path = directory / f"{stem}.json"
    document = asdict(report)
    json_path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    written.append(json_path)
    markdown_path = directory / f"{stem}.md"
    png_path = directory / f"{stem}.png"
    missing_chart = chart(report, png_path)
    text = markdown(report)
    if missing_chart is None:
        text += f"\n![throughput and p99 by concurrency]({png_path.name})\n"
        written.append(png_path)
    else:
        text += f"\n({missing_chart})\n"
    markdown_path.write_text(text)
    written.append(markdown_path)
    if not report.complete:
        return written
    for path in written:
        shutil.copyfile(path, directory / f"latest{path.suffix}")
    if missing_chart is None:
        latest_md = directory / "latest.md"
        latest_md.write_text(latest_md.read_text().replace(png_path.name, "latest.png"))
    return written


if __name__ == "__main__":
    # python -m bench.report bench/results/bench-....json: write its Markdown and chart again.
    source = Path(sys.argv[1])
    for written in write(load(source), source.parent, source.stem):
        print(written)
