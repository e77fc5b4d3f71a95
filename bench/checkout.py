"""The base revision of a comparison, checked out in a temporary git worktree with its own venv.

``git worktree add --detach`` (the repository's objects, no copy of its history) and ``uv sync
--frozen`` from the base's own lock file; both are removed again at the end, whatever happens.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.stack import StackError, clean_environment

PROJECT: Path = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Checkout:
    path: Path
    commit: str
    """The full commit id the reference named."""
    title: str
    """``<short id> <subject>`` for the report."""


def git_output(*args: str, cwd: Path = PROJECT) -> str:
    git = shutil.which("git")
    if git is None:
        raise StackError("`git` is not on PATH: BASE_REF needs it to check out the base")
    result = subprocess.run(  # noqa: S603 - git with arguments built by the bench
        [git, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )
    if result.returncode != 0:
        raise StackError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def head_title() -> str:
    """``<short id> <subject>`` of this checkout's HEAD, marked when the tree has changes."""
    title = git_output("log", "-1", "--format=%h %s")
    return title + (" (with uncommitted changes)" if git_output("status", "--porcelain") else "")


def _uv() -> str:
    found = shutil.which("uv") or str(PROJECT / ".tools" / "bin" / "uv")
    if not Path(found).is_file():
        raise StackError("`uv` not found: run `make install` first")
    return found


@contextmanager
def base_checkout(reference: str, log: Path) -> Iterator[Checkout]:
    """``reference`` checked out under a temporary directory, its locked dependencies installed."""
    commit = git_output("rev-parse", "--verify", f"{reference}^{{commit}}")
    title = git_output("log", "-1", "--format=%h %s", commit)
    parent = Path(tempfile.mkdtemp(prefix="mfa-bench-base-"))
    path = parent / "checkout"
    git_output("worktree", "add", "--detach", str(path), commit)
    try:
        environment = {
            key: value
            for key, value in clean_environment().items()
            if key not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
        }
        with log.open("ab") as output:
            result = subprocess.run(  # noqa: S603 - uv with fixed arguments
                [_uv(), "sync", "--frozen", "--quiet"],
                cwd=path,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=900,
            )
        if result.returncode != 0:
            raise StackError(f"`uv sync --frozen` of {reference} failed: see {log}")
        yield Checkout(path, commit, title)
    finally:
        try:
            git_output("worktree", "remove", "--force", str(path))
        except StackError:
            shutil.rmtree(path, ignore_errors=True)
            git_output("worktree", "prune")
        shutil.rmtree(parent, ignore_errors=True)


def extract_code(reference: str, into: Path, folders: tuple[str, ...]) -> Path:
    """The ``folders`` of ``reference`` written under ``into`` (``git archive``: no worktree, no
    venv), for benches that import a revision's code with the working copy's dependencies."""
    git = shutil.which("git")
    if git is None:
        raise StackError("`git` is not on PATH: --base-ref needs it to extract the base")
    archive = subprocess.run(  # noqa: S603 - git with fixed arguments and a ref
        [git, "-C", str(PROJECT), "archive", "--format=tar", reference, *folders],
        check=True,
        capture_output=True,
    ).stdout
    into.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into
