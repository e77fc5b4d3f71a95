"""Driving load with wrk (Debian's package) and its Lua scripts in bench/lua/."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.stack import StackError

LUA_DIR: Final = Path(__file__).with_name("lua")
_RESULT_LINE: Final = re.compile(r"^BENCH_JSON (\{.*\})$", re.MULTILINE)


def ensure_wrk() -> str:
    """The path of ``wrk``; installs Debian's package when it is missing and we are root."""
    found = shutil.which("wrk")
    if found is not None:
        return found
    apt_get = shutil.which("apt-get")
    if os.geteuid() != 0 or apt_get is None:
        raise StackError(
            "the bench drives load with wrk: install it (`sudo apt-get install -y wrk`) and rerun"
        )
    print("installing wrk with apt-get", flush=True)
    if _apt_get(apt_get, "install", "-y", "-qq", "wrk") != 0:
        _apt_get(apt_get, "update", "-qq")
        _apt_get(apt_get, "install", "-y", "-qq", "wrk")
    found = shutil.which("wrk")
    if found is None:
        raise StackError("apt-get installed wrk but it is not on PATH")
    return found


def _apt_get(apt_get: str, *args: str) -> int:
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(  # noqa: S603 - apt-get with fixed arguments
        [apt_get, *args], stdout=subprocess.DEVNULL, env=environment, check=False
    ).returncode


def wrk_version(wrk: str) -> str:
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)  # noqa: S603
    return (
        (result.stdout or result.stderr).splitlines()[0] if (result.stdout or result.stderr) else ""
    )


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """One wrk run: ``method path`` with lines from ``lines_file`` (None: a plain GET)."""

    method: str
    path: str
    lines_file: Path | None = None
    once: bool = False
    """Stop each thread at the end of its lines instead of starting over (one-time codes)."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run measured. Rates are over the active window (first request to last answer)."""

    connections: int
    threads: int
    duration_s: float
    active_s: float
    responses: int
    statuses: dict[str, int]
    socket_errors: dict[str, int]
    latency_ms: dict[str, float]
    exhausted_threads: int
    wrk_cpu_s: float
    raw: dict[str, Any] = field(repr=False)

    @property
    def rate(self) -> float:
        return self.responses / self.active_s if self.active_s > 0 else 0.0

    def unexpected(self, expected_status: int) -> int:
        """Answers with another status than expected, plus socket errors and timeouts."""
        others = sum(
            count for status, count in self.statuses.items() if status != str(expected_status)
        )
        return others + sum(self.socket_errors.values())


def _end_when_exhausted(process: subprocess.Popen[str], marker_prefix: Path, threads: int) -> None:
    """Sends wrk SIGINT (it then stops and reports) once every thread has run out of lines, rather
    than letting it sleep out its duration."""
    while process.poll() is None:
        done = list(marker_prefix.parent.glob(marker_prefix.name + ".*"))
        if len(done) >= threads:
            process.send_signal(signal.SIGINT)
            return
        time.sleep(0.05)


def threads_for(connections: int, max_threads: int) -> int:
    return max(1, min(max_threads, connections))


def run_wrk(
    wrk: str,
    base_url: str,
    spec: LoadSpec,
    *,
    connections: int,
    threads: int,
    duration_s: int,
    log: Path,
    timeout_s: int = 5,
) -> WrkResult:
    """Runs wrk once and returns its figures (the Lua ``done()`` prints them as JSON)."""
    if spec.lines_file is None:
        script_args: list[str] = []
        script = LUA_DIR / "health.lua"
    else:
        script = LUA_DIR / "rotate.lua"
        mode = "once" if spec.once else "cycle"
        marker_prefix = spec.lines_file.with_suffix(".done")
        for stale in marker_prefix.parent.glob(marker_prefix.name + ".*"):
            stale.unlink()
        script_args = ["--", str(spec.lines_file), str(threads), mode, spec.method]
        script_args.append(str(marker_prefix))
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        f"--timeout={timeout_s}s",
        "--latency",
        "-s",
        str(script),
        f"{base_url}{spec.path}",
        *script_args,
    ]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - a fixed command line
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        if spec.once and spec.lines_file is not None:
            _end_when_exhausted(process, spec.lines_file.with_suffix(".done"), threads)
        output, _ = process.communicate(timeout=duration_s + 60)
    except BaseException:
        process.kill()
        process.wait()
        raise
    elapsed = time.monotonic() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk is reaped: its CPU is in
    wrk_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    with log.open("a") as handle:
        handle.write(f"\n$ {' '.join(command)}\n{output}")
    match = _RESULT_LINE.search(output)
    if process.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output[-2000:]}")
    raw: dict[str, Any] = json.loads(match.group(1))
    latency = raw["latency_us"]
    latency_ms = {f"p{key}": value / 1000 for key, value in latency["percentiles"].items()}
    latency_ms.update(
        {
            "min": latency["min"] / 1000,
            "mean": latency["mean"] / 1000,
            "max": latency["max"] / 1000,
        }
    )
    statuses = {str(key): int(value) for key, value in raw["statuses"].items()}
    return WrkResult(
        connections=connections,
        threads=threads,
        duration_s=elapsed,
        active_s=float(raw["active_ms"]) / 1000,
        responses=sum(statuses.values()),
        statuses=statuses,
        socket_errors={key: int(value) for key, value in raw["socket_errors"].items()},
        latency_ms=latency_ms,
        exhausted_threads=int(raw["exhausted_threads"]),
        wrk_cpu_s=wrk_cpu,
        raw=raw,
    )
