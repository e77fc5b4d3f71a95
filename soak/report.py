"""The soak's report: Markdown with the invariants and numbers, and a PNG timeline (throughput by
replica, p50/p99 latency, answers other than the expected by kind; fault windows shaded)."""

from __future__ import annotations

import platform
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Final

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from soak.faults import SETTLE_SECONDS, Window
from soak.invariants import Findings
from soak.load import Event, Recorder
from soak.users import Verdict

BUCKET_SECONDS: Final = 2.0


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timeline(path: Path, events: list[Event], windows: list[Window], seconds: float) -> None:
    buckets = int(seconds // BUCKET_SECONDS) + 1
    xs = [i * BUCKET_SECONDS for i in range(buckets)]
    per_replica: dict[str, list[float]] = defaultdict(lambda: [0.0] * buckets)
    latencies: list[list[float]] = [[] for _ in range(buckets)]
    kinds: dict[str, list[float]] = defaultdict(lambda: [0.0] * buckets)
    for event in events:
        index = min(buckets - 1, int(event.at // BUCKET_SECONDS))
        per_replica[event.replica][index] += 1 / BUCKET_SECONDS
        latencies[index].append(event.latency * 1000)
        if event.verdict is not Verdict.OK:
            kind = f"{event.verdict} {event.status or 'no answer'}"
            kinds[kind][index] += 1
    figure, (top, middle, bottom) = plt.subplots(3, 1, figsize=(12, 9), sharex=True)
    for name in sorted(per_replica):
        top.plot(xs, per_replica[name], label=name, linewidth=1)
    top.set_ylabel("answers/s")
    top.legend(loc="upper right", fontsize=7, ncol=4)
    middle.plot(xs, [_quantile(b, 0.5) for b in latencies], label="p50", linewidth=1)
    middle.plot(xs, [_quantile(b, 0.99) for b in latencies], label="p99", linewidth=1)
    middle.set_ylabel("latency ms")
    middle.set_yscale("log")
    middle.legend(loc="upper right", fontsize=7)
    for kind in sorted(kinds):
        bottom.plot(xs, kinds[kind], label=kind, linewidth=1, marker=".")
    bottom.set_ylabel(f"other answers per {BUCKET_SECONDS:.0f} s")
    bottom.set_xlabel("seconds since start")
    if kinds:
        bottom.legend(loc="upper right", fontsize=7)
    for axis in (top, middle, bottom):
        for window in windows:
            axis.axvspan(window.start, window.end + SETTLE_SECONDS, color="orange", alpha=0.1)
    for window in windows:
        top.annotate(
            window.name,
            (window.start, 1),
            xycoords=("data", "axes fraction"),
            rotation=90,
            fontsize=6,
            va="top",
        )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report(
    out: Path,
    recorder: Recorder,
    windows: list[Window],
    findings: Findings,
    seconds: float,
    replicas: int,
) -> Path:
    events = recorder.events
    _timeline(out / "timeline.png", events, windows, seconds)
    latencies = [e.latency * 1000 for e in events if e.verdict is Verdict.OK]
    lines = [
        f"# Soak report ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"{replicas} replicas of `mfa-service serve` behind HAProxy, one Postgres (a private "
        f"cluster), one OpenBao dev server; {seconds:.0f} s of load, {len(events)} answers "
        f"({len(events) / max(seconds, 1):.1f}/s), machine {platform.node()} "
        "(2 cores shared with other work: the figures are noisy).",
        "",
        f"**Invariants: {'all held' if findings.held else 'NOT all held'}.**",
        "",
        "| invariant | held | measured |",
        "|---|---|---|",
    ]
    lines += [
        f"| {row.name} | {'yes' if row.held else '**no**'} | {row.value} |" for row in findings.rows
    ]
    lines += [
        "",
        "## Faults",
        "",
        "| fault | from s | to s | answers: verdicts (window + "
        f"{SETTLE_SECONDS:.0f} s to settle) | slowest 503 |",
        "|---|--:|--:|---|--:|",
    ]
    by_window = findings.numbers.get("verdicts by window", {})
    slowest = findings.numbers.get("slowest 503 by window", {})
    lines += [
        f"| {w.name} | {w.start:.1f} | {w.end:.1f} | {dict(by_window.get(w.key, {}))} "
        f"| {_seconds(slowest.get(w.key))} |"
        for w in windows
    ]
    operations = Counter(e.operation for e in events)
    lines += [
        "",
        "## Answers",
        "",
        f"Latency of expected answers: p50 {_quantile(latencies, 0.5):.0f} ms, p99 "
        f"{_quantile(latencies, 0.99):.0f} ms, mean "
        f"{statistics.fmean(latencies) if latencies else 0:.0f} ms.",
        "",
        "| operation | answers | other than expected |",
        "|---|--:|--:|",
    ]
    for operation, count in operations.most_common():
        other = sum(1 for e in events if e.operation == operation and e.verdict is not Verdict.OK)
        lines.append(f"| {operation} | {count} | {other} |")
    replicas_seen = Counter(e.replica for e in events)
    lines += [
        "",
        f"Served by: {dict(sorted(replicas_seen.items()))}.",
        "",
        "![timeline](timeline.png)",
        "",
    ]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    return report


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"
