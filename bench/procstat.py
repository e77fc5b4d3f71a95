"""CPU time of the processes under test, read from /proc (Linux), and what the machine is made of."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
_POSTGRES_TITLE = re.compile(r"^postgres: (?:[^ ]+: )?(.*)$")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Machine:
    cpu_model: str
    cores: int
    memory_gib: float
    kernel: str

    @staticmethod
    def describe() -> Machine:
        model = "unknown"
        for line in _read("cpuinfo").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory_kib = 0
        for line in _read("meminfo").splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
                break
        return Machine(
            cpu_model=model,
            cores=os.cpu_count() or 1,
            memory_gib=round(memory_kib / 1024 / 1024, 1),
            kernel=platform.release(),
        )


def _read(name: str) -> str:
    try:
        return (PROC / name).read_text()
    except OSError:
        return ""


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces), or None."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds of one process (threads included), or None when it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    # After the name: state(0) ppid(1) ... utime(11) stime(12)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def parent_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[1])


def command_line(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def all_pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def with_descendants(root: int) -> set[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid in all_pids():
        parent = parent_of(pid)
        if parent is not None:
            children.setdefault(parent, []).append(pid)
    found = {root}
    queue = [root]
    while queue:
        for child in children.get(queue.pop(), []):
            if child not in found:
                found.add(child)
                queue.append(child)
    return found


def postgres_processes(database: str) -> set[int]:
    """The Postgres backends serving ``database`` and the server's auxiliary processes (WAL writer,
    checkpointer, background writer, autovacuum), whose cmdline starts with ``postgres:``.

    Backends of other databases (other people's tests on the same server) are left out; the
    auxiliary processes are shared, so their share is an upper bound.
    """
    found: set[int] = set()
    for pid in all_pids():
        match = _POSTGRES_TITLE.match(command_line(pid))
        if match is None:
            continue
        words = match.group(1).split()
        if len(words) >= 3 and ("(" in words[2] or words[2] == "[local]"):
            if words[1] == database:  # "user database host(port) state"
                found.add(pid)
        elif words[:2] == ["autovacuum", "worker"]:
            if words[2:3] == [database]:
                found.add(pid)
        else:
            found.add(pid)
    return found


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """CPU seconds per process of each group at one moment, and the machine's busy/total ticks."""

    groups: Mapping[str, Mapping[int, float]]
    machine_busy: float
    machine_total: float


def machine_ticks() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine since boot (all cores)."""
    first = _read("stat").splitlines()[0].split()
    values = [int(value) for value in first[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already in user time
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


class CpuMeter:
    """Snapshots the CPU time of named process groups; each group is a function giving its pids."""

    def __init__(self, groups: Mapping[str, Callable[[], Iterable[int]]]) -> None:
        self._groups = dict(groups)

    def snapshot(self) -> CpuSnapshot:
        taken: dict[str, dict[int, float]] = {}
        for name, pids in self._groups.items():
            seconds: dict[int, float] = {}
            for pid in pids():
                value = cpu_seconds(pid)
                if value is not None:
                    seconds[pid] = value
            taken[name] = seconds
        busy, total = machine_ticks()
        return CpuSnapshot(taken, busy, total)


@dataclass(frozen=True, slots=True)
class CpuUsage:
    """CPU seconds each group used between two snapshots, and the machine's busy share (0-1)."""

    seconds: Mapping[str, float]
    machine_busy_seconds: float
    machine_seconds: float
    """CPU seconds the machine had (wall time times cores)."""

    @property
    def machine_busy_share(self) -> float:
        return self.machine_busy_seconds / self.machine_seconds if self.machine_seconds else 0.0

    def others_share(self, also_ours: float = 0.0) -> float:
        """The share of the machine busy with processes outside the groups (and ``also_ours`` CPU
        seconds measured elsewhere, e.g. the load generator): other people's work on the machine."""
        if not self.machine_seconds:
            return 0.0
        ours = sum(self.seconds.values()) + also_ours
        return max(0.0, self.machine_busy_seconds - ours) / self.machine_seconds


def usage_between(before: CpuSnapshot, after: CpuSnapshot) -> CpuUsage:
    """Per group: the CPU seconds of processes seen at the end minus what they had at the start (a
    process that started meanwhile counts from zero; one that ended meanwhile is lost)."""
    seconds: dict[str, float] = {}
    for name, at_end in after.groups.items():
        at_start = before.groups.get(name, {})
        seconds[name] = sum(
            max(0.0, value - at_start.get(pid, 0.0)) for pid, value in at_end.items()
        )
    return CpuUsage(
        seconds,
        after.machine_busy - before.machine_busy,
        after.machine_total - before.machine_total,
    )
