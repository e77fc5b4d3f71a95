"""Starting the real service as a separate process, as an operator would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.waiting import CEILING_SECONDS, wait_until

MFA_SERVICE = str(Path(sys.executable).with_name("mfa-service"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(
    args: list[str], environment: Mapping[str, str], timeout: float = CEILING_SECONDS
) -> subprocess.CompletedProcess[str]:
    """Runs one ``mfa-service`` command. Its imports alone take seconds of CPU, which a loaded
    two-core machine stretches past a minute: the ceiling is the generous one of every wait."""
    return subprocess.run(
        [MFA_SERVICE, *args],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def running_service(
    environment: Mapping[str, str], *extra_args: str, log_file: Path
) -> Iterator[str]:
    """Runs ``mfa-service serve`` on a free port until the block ends; yields its base URL."""
    with served_process(environment, *extra_args, log_file=log_file) as (base_url, _):
        yield base_url


@contextmanager
def served_process(
    environment: Mapping[str, str], *extra_args: str, log_file: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``running_service`` that also yields the process, for tests that signal it."""
    port = free_port()
    with log_file.open("w") as log:
        process = subprocess.Popen(
            [MFA_SERVICE, "serve", "--port", str(port), *extra_args],
            env={**os.environ, **environment},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_live(base_url, process, log_file)
            yield base_url, process
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=20)


def _wait_until_live(base_url: str, process: subprocess.Popen[bytes], log_file: Path) -> None:
    wait_until(
        lambda: _answers(f"{base_url}/health/live"),
        f"mfa-service serve answers {base_url}/health/live",
        process=process,
        log=log_file,
    )


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.TransportError:
        return False
