"""``make soak``: the production stack with N replicas behind HAProxy, simulated customers, a fault
schedule, the invariants checked from the customers' side and from the database, and a report.

    uv run python -m soak.run --duration 10m --replicas 3 --out soak/results
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

import asyncpg
import httpx

from bench.stack import (
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    StackError,
    clean_environment,
    tool_beside_python,
    vault_dev_server,
    vault_setup,
)
from soak.cluster import DRAIN_SECONDS, cluster
from soak.faults import Faults, Window
from soak.idp import IdentityProvider, serving
from soak.invariants import Findings, check_invariants
from soak.load import PENDING_TTL_SECONDS, Recorder, Session, drive
from soak.postgres import private_cluster
from soak.report import write_report
from soak.users import Customer
from tests.support.delay_proxy import DelayProxy

DATABASE: Final = "mfa_soak"
WARM_UP_SECONDS: Final = 8.0
GAP_SECONDS: Final = 6.0


@dataclass(frozen=True, slots=True)
class Options:
    duration: float
    replicas: int
    rate: float
    customers: int
    out: Path


@dataclass(frozen=True, slots=True)
class Outcome:
    findings: Findings
    windows: list[Window]
    report: Path


def _environment(
    database_url: str, vault_addr: str, vault_token: str, jwks_url: str, data: Path
) -> dict[str, str]:
    return {
        **clean_environment(),
        "MFA_ENV": "production",
        "MFA_DATA_DIR": str(data),
        "MFA_DATABASE_URL": database_url,
        "MFA_CIPHER": "vault",
        "MFA_VAULT_ADDR": vault_addr,
        "MFA_VAULT_TOKEN": vault_token,
        "MFA_JWKS_URL": jwks_url,
        "MFA_TOKEN_ISSUER": TOKEN_ISSUER,
        "MFA_TOKEN_AUDIENCE": TOKEN_AUDIENCE,
        "MFA_ISSUER": "Soak Bank",
        "MFA_ADMIN_SCOPE": "mfa-admin",
        "MFA_PSEUDONYM_KEY": "soak-only pseudonym key, not a secret, 32+ bytes",
        "MFA_ENROLLMENTS_PER_HOUR": "1000",
        "MFA_PENDING_TTL_SECONDS": str(PENDING_TTL_SECONDS),
        "MFA_SHUTDOWN_DRAIN_SECONDS": str(DRAIN_SECONDS),
        "MFA_SHUTDOWN_GRACE_SECONDS": "20",
        "MFA_NOTIFY_INTERVAL_SECONDS": "1",
        "MFA_DB_POOL_SIZE": "5",
        "MFA_LOG_LEVEL": "INFO",
    }


async def _create_database(admin_dsn: str) -> None:
    connection = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await connection.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await connection.close()


def _run_cli(args: list[str], environment: dict[str, str], log: Path) -> None:
    mfa_service = tool_beside_python("mfa-service", "run the soak with `uv run`")
    with log.open("ab") as output:
        result = subprocess.run(  # noqa: S603 - a fixed command line
            [str(mfa_service), *args],
            env=environment,
            stdout=output,
            stderr=output,
            timeout=300,
            check=False,
        )
    if result.returncode != 0:
        raise StackError(f"mfa-service {' '.join(args)} failed; see {log}")


@contextmanager
def _stack(options: Options, folder: Path) -> Iterator[tuple[Faults, str, dict[str, str], str]]:
    with ExitStack() as stack:
        postgres = stack.enter_context(private_cluster())
        asyncio.run(_create_database(postgres.admin_dsn))
        postgres_proxy = stack.enter_context(DelayProxy("127.0.0.1", postgres.port))
        vault = stack.enter_context(vault_dev_server(folder))
        vault_port = int(vault.addr.rsplit(":", 1)[1])
        vault_proxy = stack.enter_context(DelayProxy("127.0.0.1", vault_port))
        idp = IdentityProvider()
        jwks_url = stack.enter_context(serving(idp))
        database_url = f"postgresql+asyncpg://postgres@127.0.0.1:{postgres_proxy.port}/{DATABASE}"
        environment = _environment(database_url, vault_proxy.addr, "", jwks_url, folder / "data")
        token = vault_setup(
            vault, {**environment, "MFA_VAULT_ADDR": vault.addr}, folder / "setup.log"
        )
        environment["MFA_VAULT_TOKEN"] = token
        _run_cli(["migrate"], environment, folder / "setup.log")
        replicas = stack.enter_context(
            cluster(environment, replicas=options.replicas, folder=folder)
        )
        faults = Faults(
            cluster=replicas,
            postgres=postgres,
            postgres_proxy=postgres_proxy,
            vault=vault,
            vault_log=folder / "vault.log",
            vault_proxy=vault_proxy,
            idp=idp,
            started=0.0,
            windows=[],
        )
        direct_dsn = f"postgresql://postgres@127.0.0.1:{postgres.port}/{DATABASE}"
        yield faults, replicas.url, environment, direct_dsn


def _customers(count: int) -> list[Customer]:
    attackers = max(1, count // 20)
    return [
        Customer(subject=f"soak-{index:05d}", attacker=index < attackers) for index in range(count)
    ]


async def _load(
    options: Options,
    faults: Faults,
    url: str,
    recorder: Recorder,
    customers: list[Customer],
    stop: threading.Event,
) -> None:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        session = Session(client, faults.idp, recorder)
        await drive(session, customers, rate=options.rate, until=stop.is_set)


def _soak(
    options: Options, faults: Faults, url: str, recorder: Recorder, customers: list[Customer]
) -> None:
    """The load in a thread of its own; the faults in this one, so that the replicas they start
    have the soak's main thread as parent (they get SIGTERM when it dies, see bench.stack)."""
    stop = threading.Event()
    failure: list[BaseException] = []

    def load() -> None:
        try:
            asyncio.run(_load(options, faults, url, recorder, customers, stop))
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=load, name="soak-load")
    thread.start()
    deadline = recorder.started + options.duration
    try:
        time.sleep(WARM_UP_SECONDS)
        rounds = 0
        while rounds == 0 or time.time() < deadline - 60:
            for fault in faults.schedule():
                print(
                    f"soak: {time.time() - recorder.started:6.1f} s {fault.__name__}",
                    file=sys.stderr,
                )
                fault()
                time.sleep(GAP_SECONDS)
            rounds += 1
        time.sleep(max(0.0, deadline - time.time()))
    finally:
        stop.set()
        thread.join(timeout=120)
    if failure:
        raise failure[0]


def run(options: Options) -> Outcome:
    options.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="mfa-soak-"))
    print(f"soak: working folder {folder}", file=sys.stderr)
    customers = _customers(options.customers)
    with _stack(options, folder) as (faults, url, environment, direct_dsn):
        recorder = Recorder(time.time())
        faults.started = recorder.started
        _soak(options, faults, url, recorder, customers)
        load_seconds = time.time() - recorder.started
        findings = check_invariants(
            url=url,
            customers=customers,
            recorder=recorder,
            windows=faults.windows,
            environment=environment,
            vault=faults.vault,
            database_dsn=direct_dsn,
            logs=[r.log for r in faults.cluster.replicas],
            folder=folder,
            idp=faults.idp,
        )
    report = write_report(
        options.out, recorder, faults.windows, findings, load_seconds, options.replicas
    )
    (folder / "events.json").write_text(
        json.dumps([{**asdict(e), "verdict": str(e.verdict)} for e in recorder.events])
    )
    if findings.held:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"soak: logs and events.json kept in {folder}", file=sys.stderr)
    return Outcome(findings, faults.windows, report)


def seconds(text: str) -> float:
    """``90``, ``90s``, ``10m`` or ``1h`` as seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if text and text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (say 90s, 10m)") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--duration",
        type=seconds,
        default=90.0,
        help="seconds of load (at least one round of faults)",
    )
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument(
        "--rate", type=float, default=25.0, help="customer actions started per second"
    )
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("soak/results"))
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    outcome = run(Options(args.duration, args.replicas, args.rate, args.customers, args.out))
    print(outcome.report.read_text())
    if not outcome.findings.held:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
