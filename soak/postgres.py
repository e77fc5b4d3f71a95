"""A private Postgres cluster the soak may restart: ``initdb`` and ``pg_ctl`` in a temporary folder on
a free loopback port, run as the ``postgres`` OS user when the soak runs as root (Postgres refuses
root). The machine's shared server is never touched."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench.stack import StackError, free_port, tail

BINARIES_GLOB: Final = "/usr/lib/postgresql/*/bin"
OS_USER: Final = "postgres"


def _as_cluster_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        raise StackError("running as root needs `runuser` to start Postgres as its own user")
    return [runuser, "-u", OS_USER, "--", *command]


def _version(folder: Path) -> list[int]:
    return [int(part) for part in folder.parent.name.split(".") if part.isdigit()]


def _binary(name: str) -> str:
    """The newest installed server's ``name`` (Debian keeps them per version), else PATH's."""
    installed = sorted(Path("/").glob(BINARIES_GLOB.lstrip("/")), key=_version, reverse=True)
    for folder in installed:
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise StackError(f"{name} not found in {BINARIES_GLOB} nor on PATH: install postgresql")
    return found


@dataclass(frozen=True, slots=True)
class PrivateCluster:
    port: int
    data: Path
    log: Path

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str, timeout: float = 120) -> None:
        command = _as_cluster_user(
            [_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "90", *args]
        )
        result = subprocess.run(  # noqa: S603 - fixed command line
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise StackError(f"pg_ctl {' '.join(args)} failed: {result.stderr}\n{tail(self.log)}")

    def start(self) -> None:
        self._pg_ctl("start", "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1")

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        """What a fail-over looks like to the service: every connection cut, the server back."""
        self._pg_ctl("restart", "-m", "fast")


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    folder = Path(tempfile.mkdtemp(prefix="mfa-soak-pg-"))
    data = folder / "data"
    log = folder / "postgres.log"
    try:
        if os.geteuid() == 0:
            user = pwd.getpwnam(OS_USER)
            os.chown(folder, user.pw_uid, user.pw_gid)
        command = _as_cluster_user(
            [_binary("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"]
        )
        result = subprocess.run(  # noqa: S603 - fixed command line
            command, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise StackError(f"initdb failed: {result.stderr}")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("max_connections = 200\nfsync = off\nshared_buffers = 64MB\n")
        cluster = PrivateCluster(free_port(), data, log)
        cluster.start()
        try:
            yield cluster
        finally:
            with suppress(StackError):  # already down: the folder goes anyway
                cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
