"""Sampling the running service with py-spy during a run, and where its CPU time went.

py-spy is not a project dependency: ``uv pip install py-spy`` (or ``pip install py-spy``) and pass
``--profile``. It attaches to the uvicorn master and its workers (``--subprocesses``) and records
on-CPU stacks only (idle threads are left out), so the shares below are shares of the service's CPU.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

CATEGORIES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    # First match wins, checked against every frame from the innermost outwards.
    ("QR rendering (segno)", ("segno/",)),
    ("Vault client (httpx, httpcore, h11)", ("httpx/", "httpcore/", "h11/", "adapters/vault/")),
    ("token verification (joserfc, cryptography)", ("joserfc/", "cryptography/", "adapters/jwt/")),
    ("database driver (asyncpg)", ("asyncpg/",)),
    ("SQL layer (SQLAlchemy)", ("sqlalchemy/", "adapters/sqlalchemy/")),
    ("TOTP (pyotp, hmac)", ("pyotp/", "hmac.py")),
    ("JSON (msgspec, json)", ("msgspec/", "json/")),
    ("logging", ("logging/",)),
    ("worker threads (anyio, threading, concurrent)", ("anyio/", "threading.py", "concurrent/")),
    ("HTTP framework (litestar)", ("litestar/",)),
    ("HTTP server (uvicorn, httptools)", ("uvicorn/", "httptools/")),
    ("application and domain", ("application/", "domain/", "entrypoints/")),
    ("event loop (asyncio, uvloop)", ("asyncio/", "uvloop/")),
)

PROJECT_DIRS: Final = ("application/", "adapters/", "domain/", "entrypoints/")

_FRAME: Final = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


class ProfilerUnavailable(RuntimeError):
    pass


def find_py_spy() -> str:
    found = shutil.which("py-spy")
    if found is None:
        beside = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy"
        if beside.exists():
            return str(beside)
        raise ProfilerUnavailable(
            "--profile needs py-spy: `uv pip install py-spy` (not a project dependency)"
        )
    return found


def start_recording(py_spy: str, pid: int, seconds: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy recording ``pid`` and its subprocesses for ``seconds``, collapsed stacks to ``output``."""
    return subprocess.Popen(  # noqa: S603 - a fixed command line
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--nonblocking",
            "--rate",
            "250",
            "--duration",
            str(seconds),
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    samples: int
    categories: list[tuple[str, float]]
    """Share of on-CPU samples per category (the innermost matching frame decides)."""
    top_self: list[tuple[str, float]]
    """Functions with the largest share of samples as the innermost frame."""
    top_inclusive: list[tuple[str, float]]
    """The project's functions with the largest share of samples on the stack (callees included)."""
    starting: int = 0
    """Samples left out: a worker importing modules (one uvicorn started anew, not serving)."""


def _frames(stack: str) -> list[str]:
    return [frame for frame in stack.split(";") if frame]


def _file_of(frame: str) -> str:
    match = _FRAME.match(frame)
    return match.group("file") if match else frame


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match.group("file")
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match.group('function')} ({path})"


def category_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        path = _file_of(frame)
        for name, markers in CATEGORIES:
            if any(marker in path for marker in markers):
                return name
    return "other"


def parse_collapsed(lines: Iterable[str]) -> list[tuple[list[str], int]]:
    stacks = []
    for line in lines:
        line = line.rstrip("\n")
        if not line or " " not in line:
            continue
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            stacks.append((_frames(stack), int(count)))
    return stacks


def summarise(collapsed: Path, top: int = 15) -> ProfileSummary:
    parsed = parse_collapsed(collapsed.read_text(errors="replace").splitlines())
    stacks = [(frames, count) for frames, count in parsed if not _importing(frames)]
    starting = sum(count for _, count in parsed) - sum(count for _, count in stacks)
    total = sum(count for _, count in stacks) or 1
    categories: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        python_frames = [frame for frame in frames if _FRAME.match(frame)]
        categories[category_of(python_frames)] += count
        if python_frames:
            self_time[_short(python_frames[-1])] += count
        for function in {_short(frame) for frame in python_frames}:
            if any(f"({directory}" in function for directory in PROJECT_DIRS):
                inclusive[function] += count
    return ProfileSummary(
        samples=total,
        categories=[(name, count / total) for name, count in categories.most_common()],
        top_self=[(name, count / total) for name, count in self_time.most_common(top)],
        top_inclusive=[(name, count / total) for name, count in inclusive.most_common(top)],
        starting=starting,
    )


def _importing(frames: list[str]) -> bool:
    """A stack of a module import: on a machine others keep busy, uvicorn replaces a worker that
    misses its health check, and the new one's imports are no request's cost."""
    return any("<frozen importlib._bootstrap>" in frame for frame in frames)
