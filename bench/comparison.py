"""Two commits measured in one run (``--base-ref``): each figure for both, with the ratio head/base.

The runs alternate base, head, base, head… for every scenario and concurrency on the same stack,
so both see the same machine; each figure below is the median over a revision's rounds.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bench.report import SCENARIO_TITLES, BenchReport, RunRecord

PHASE: Final = "compare"
REVISIONS: Final = ("base", "head")


@dataclass(frozen=True, slots=True)
class Figures:
    """The median of one revision's rounds of one scenario at one concurrency."""

    rounds: int
    rate: float
    """Answers with the expected status per second."""
    p50_ms: float
    p99_ms: float
    service_cpu_ms: float
    cpu_x_health: float | None
    refused_badly: int
    """Answers that are neither the expected status nor a 503 with Retry-After, socket errors
    included (summed over the rounds)."""
    shed: int
    """503 answers with Retry-After (summed over the rounds)."""


def _median(runs: Sequence[RunRecord], value: Callable[[RunRecord], float | None]) -> float | None:
    values = [figure for figure in map(value, runs) if figure is not None]
    return statistics.median(values) if values else None


def figures(report: BenchReport, revision: str, scenario: str, concurrency: int) -> Figures | None:
    runs = [
        run
        for run in report.runs
        if (run.phase, run.revision, run.scenario, run.concurrency)
        == (PHASE, revision, scenario, concurrency)
        and run.responses > 0  # no answer within the run (lines used up, or all slower than it)
    ]
    if not runs:
        return None
    return Figures(
        rounds=len(runs),
        rate=_median(runs, lambda run: run.good_rate) or 0.0,
        p50_ms=_median(runs, lambda run: run.latency_ms["p50"]) or 0.0,
        p99_ms=_median(runs, lambda run: run.latency_ms["p99"]) or 0.0,
        service_cpu_ms=_median(runs, lambda run: run.cpu_ms_per_request.get("service")) or 0.0,
        cpu_x_health=_median(runs, lambda run: run.service_cpu_x_health),
        refused_badly=sum(run.refused_badly for run in runs),
        shed=sum(run.shed for run in runs),
    )


def _ratio(head: float, base: float) -> str:
    return f"**{head / base:.2f}**" if base > 0 else "-"


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _multiple(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def _answers(base: Figures, head: Figures) -> str:
    return " / ".join(
        f"{figure.refused_badly}" + (f" (+{figure.shed} shed)" if figure.shed else "")
        for figure in (base, head)
    )


TABLE_HEADER: Final = (
    "| scenario | conc. | req/s base | req/s head | head/base | p50 ms base | p50 ms head "
    "| head/base | p99 ms base | p99 ms head | head/base | service CPU ms/req base | head "
    "| head/base | CPU x health base | CPU x health head | other answers base / head |\n"
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
)


def _levels(report: BenchReport) -> list[tuple[str, int]]:
    seen = {(run.scenario, run.concurrency) for run in report.runs if run.phase == PHASE}
    order = list(SCENARIO_TITLES)
    return sorted(seen, key=lambda key: (key[1], order.index(key[0]) if key[0] in order else 99))


def table(report: BenchReport) -> list[str]:
    rows = [TABLE_HEADER]
    for scenario, concurrency in _levels(report):
        base = figures(report, "base", scenario, concurrency)
        head = figures(report, "head", scenario, concurrency)
        if base is None or head is None:
            continue
        rows.append(
            f"| {SCENARIO_TITLES.get(scenario, scenario)} | {concurrency} "
            f"| {_number(base.rate)} | {_number(head.rate)} | {_ratio(head.rate, base.rate)} "
            f"| {_number(base.p50_ms)} | {_number(head.p50_ms)} "
            f"| {_ratio(head.p50_ms, base.p50_ms)} "
            f"| {_number(base.p99_ms)} | {_number(head.p99_ms)} "
            f"| {_ratio(head.p99_ms, base.p99_ms)} "
            f"| {base.service_cpu_ms:.2f} | {head.service_cpu_ms:.2f} "
            f"| {_ratio(head.service_cpu_ms, base.service_cpu_ms)} "
            f"| {_multiple(base.cpu_x_health)} | {_multiple(head.cpu_x_health)} "
            f"| {_answers(base, head)} |"
        )
    return rows


def _verdict(met: bool) -> str:
    return "**met**" if met else "**not met**"


def _throughput_target(
    report: BenchReport, scenario: str, ratio_target: float, cpu_target: float
) -> str:
    title = SCENARIO_TITLES.get(scenario, scenario)
    base = figures(report, "base", scenario, 16)
    head = figures(report, "head", scenario, 16)
    if base is None or head is None or base.rate <= 0:
        return f"- {title} at 16: not measured"
    ratio = head.rate / base.rate
    clean = head.refused_badly == 0 and head.shed == 0
    cpu = head.cpu_x_health
    return (
        f"- {title} at 16: throughput head/base {ratio:.2f} (target ≥ {ratio_target:g}) — "
        f"{_verdict(ratio >= ratio_target and clean)}; service CPU per request "
        f"{_multiple(cpu)} `/health/live`'s (target ≤ {cpu_target:g}x) — "
        f"{_verdict(cpu is not None and cpu <= cpu_target)}"
        + ("" if clean else f"; {head.refused_badly + head.shed} answers other than expected")
    )


def _overload_targets(report: BenchReport) -> list[str]:
    lines = []
    for scenario in ("verify", "enroll-svg", "enroll-png"):
        at_16 = figures(report, "head", scenario, 16)
        for concurrency in (64, 256):
            head = figures(report, "head", scenario, concurrency)
            if head is None:
                if any(
                    (run.phase, run.scenario, run.concurrency) == (PHASE, scenario, concurrency)
                    for run in report.runs
                ):
                    lines.append(
                        f"- {SCENARIO_TITLES[scenario]} at {concurrency}: no answer in the head's "
                        "runs (one-time codes or enrollment tokens used up): not measured"
                    )
                continue
            line = (
                f"- {SCENARIO_TITLES[scenario]} at {concurrency}: {head.refused_badly} answers other "
                f"than 200 or 503 with Retry-After ({head.shed} shed) — "
                f"{_verdict(head.refused_badly == 0)}"
            )
            if concurrency == 64 and at_16 is not None and at_16.p99_ms > 0:
                ratio = head.p99_ms / at_16.p99_ms
                line += (
                    f"; p99 {head.p99_ms:.1f} ms = {ratio:.2f}x p99 at 16 (target ≤ 3x) — "
                    f"{_verdict(ratio <= 3)}"
                )
            lines.append(line)
    return lines


def target_lines(report: BenchReport) -> list[str]:
    return [
        _throughput_target(report, "verify", 2.5, 8),
        _throughput_target(report, "enroll-svg", 2, 12),
        _throughput_target(report, "enroll-png", 2, 12),
        *_overload_targets(report),
    ]


def section(report: BenchReport) -> list[str]:
    """The comparison's part of the Markdown report (empty without a comparison)."""
    if not any(run.phase == PHASE for run in report.runs):
        return []
    settings = report.settings
    return [
        "## Base against head, interleaved in one run",
        "",
        f"Base: `{settings.get('base', '?')}`. Head: `{settings.get('head', '?')}`. Each scenario "
        "and concurrency ran base, head, base, head… "
        f"({settings.get('rounds', '?')} rounds each) on the same stack; figures are medians "
        "over a revision's rounds, ratios are head/base (above 1 is better for req/s, worse for "
        "latency and CPU); req/s counts the expected answers only (200; 400 for wrong codes), so "
        "shed load does not count as served. CPU x health: service CPU per request as a multiple of "
        "`GET /health/live`'s in the same run and revision. Other answers: anything but the "
        "expected status (and 503 with Retry-After, counted as shed), socket errors included.",
        "",
        "### Targets (issue 13)",
        "",
        *target_lines(report),
        "",
        *table(report),
        "",
    ]
