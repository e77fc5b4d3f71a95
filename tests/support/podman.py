"""The service's image with podman, as CI builds and runs it: ``deploy/image/build.sh`` (a Debian
base made with mmdebstrap, no registry), runc, host networking (see the README's "Deploy")."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.waiting import WaitFailed, wait_until

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("MFA_TEST_IMAGE", "localhost/mfa-service:test")
BUILD_TIMEOUT_SECONDS = 40 * 60
COMMAND_TIMEOUT_SECONDS = 300
PODMAN = ("podman", "--runtime", os.environ.get("PODMAN_RUNTIME", "runc"))
RUN_OPTIONS = (
    "--network=host",
    "--ulimit=nofile=1024:1024",
    "--ulimit=nproc=1024:1024",
    "--read-only",
    "--cap-drop=all",
    "--security-opt=no-new-privileges",
    "--health-interval=disable",  # no timer (it needs systemd); `podman healthcheck run` still works
)


class PodmanFailed(AssertionError):
    pass


def podman(
    *arguments: str, timeout: float = COMMAND_TIMEOUT_SECONDS
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PODMAN, *arguments], capture_output=True, text=True, timeout=timeout, check=False
    )


def build_image() -> str:
    """Builds IMAGE (layers cached: quick when nothing changed); raises with the build's output."""
    result = subprocess.run(
        [str(ROOT / "deploy" / "image" / "build.sh")],
        env={**os.environ, "IMAGE": IMAGE},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise PodmanFailed(
            f"deploy/image/build.sh failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return IMAGE


def inspect_image(image: str) -> dict[str, Any]:
    result = podman("image", "inspect", image)
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)[0]
    return found


def run_once(
    image: str, command: list[str], environment: Mapping[str, str], mounts: Mapping[Path, str]
) -> subprocess.CompletedProcess[str]:
    """``command`` in a throw-away container of ``image``, as a Kubernetes Job would run it."""
    return podman(
        "run", "--rm", *RUN_OPTIONS, *_env(environment), *_mounts(mounts), image, *command
    )


@dataclass(frozen=True)
class Container:
    name: str
    base_url: str

    def logs(self) -> str:
        result = podman("logs", self.name)
        return result.stdout + result.stderr


@contextmanager
def running_container(
    image: str, environment: Mapping[str, str], mounts: Mapping[Path, str], port: int
) -> Iterator[Container]:
    """The image's default command (``mfa-service serve``) on 127.0.0.1:``port`` until the block ends."""
    name = f"mfa-test-{os.getpid()}-{port}"
    started = podman(
        "run",
        "--detach",
        "--name",
        name,
        "--health-interval=disable",
        *RUN_OPTIONS,
        *_env({**environment, "MFA_HOST": "127.0.0.1", "MFA_PORT": str(port)}),
        *_mounts(mounts),
        image,
    )
    assert started.returncode == 0, started.stderr
    container = Container(name, f"http://127.0.0.1:{port}")
    try:
        _wait_until_ready(container)
        yield container
    finally:
        podman("stop", "--time", "30", name, timeout=120)
        podman("rm", "--force", name, timeout=120)


class _ContainerState:
    """``poll()`` as a process has it, for the wait: None while the container runs."""

    def __init__(self, container: Container) -> None:
        self._container = container

    def poll(self) -> int | None:
        state = podman("inspect", "--format", "{{.State.Running}}", self._container.name)
        return None if state.stdout.strip() == "true" else 1


def _wait_until_ready(container: Container) -> None:
    try:
        wait_until(
            lambda: _ready(container),
            f"the container answers {container.base_url}/health/ready",
            process=_ContainerState(container),
            interval=0.5,
        )
    except WaitFailed as failed:
        raise PodmanFailed(f"{failed}\n{container.logs()[-4000:]}") from None


def _ready(container: Container) -> bool:
    try:
        return httpx.get(f"{container.base_url}/health/ready", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def _env(environment: Mapping[str, str]) -> list[str]:
    return [f"--env={name}={value}" for name, value in environment.items()]


def _mounts(mounts: Mapping[Path, str]) -> list[str]:
    return [f"--volume={source}:{target}:ro" for source, target in mounts.items()]
