"""The invariants, checked from the customers' side (their judged answers) and from the database,
Vault and the replicas' logs once the load has stopped."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import asyncpg
import httpx

from adapters.sqlalchemy.engine import DatabaseLimits
from bench.stack import Vault, tool_beside_python
from soak.faults import Window
from soak.idp import IdentityProvider
from soak.load import Event, Recorder
from soak.users import LOCKOUT_AFTER, MAX_ACTIVE, PERIOD, Customer, Verdict, code_at, step_now

LOADED_MACHINE_MARGIN_SECONDS: Final = 3.0
UNAVAILABLE_BOUND_SECONDS: Final = (
    DatabaseLimits().longest_wait_seconds + LOADED_MACHINE_MARGIN_SECONDS
)
"""The bound the README promises for a 503 (a wait for a connection, then for a statement; Vault's
deadline is shorter), plus a margin for this machine: replicas, HAProxy, Postgres, Vault and the
load share 2 cores with other work. A ceiling, not a measure: the report gives the slowest."""
OUTBOX_CEILING_SECONDS: Final = 120.0
_CODE = re.compile(r"\b\d{6}\b")


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    held: bool
    value: str


@dataclass
class Findings:
    rows: list[Row] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        return all(row.held for row in self.rows)

    def add(self, name: str, held: bool, value: str) -> None:
        self.rows.append(Row(name, held, value))


def _window_of(event: Event, windows: list[Window]) -> Window | None:
    return next((w for w in windows if w.holds(event.at, event.latency)), None)


def _answers(findings: Findings, events: list[Event], windows: list[Window]) -> None:
    rolling = [e for e in events if (w := _window_of(e, windows)) and w.name == "rolling restart"]
    failed_rolling = [e for e in rolling if e.verdict is not Verdict.OK]
    findings.add(
        "no request fails during a rolling restart",
        not failed_rolling,
        f"{len(rolling)} answers, {len(failed_rolling)} not as expected"
        + (f" ({_sample(failed_rolling)})" if failed_rolling else ""),
    )
    outside = [e for e in events if _window_of(e, windows) is None]
    wrong_outside = [e for e in outside if e.verdict is not Verdict.OK]
    findings.add(
        "outside the fault windows: only expected answers",
        not wrong_outside,
        f"{len(outside)} answers, {len(wrong_outside)} other"
        + (f" ({_sample(wrong_outside)})" if wrong_outside else ""),
    )
    inside = [e for e in events if (w := _window_of(e, windows)) and w.name != "rolling restart"]
    cut = [e for e in inside if _cut(e)]
    cut_by_crash = [
        e
        for e in cut
        if e.method != "GET" and (w := _window_of(e, windows)) and w.name.startswith("kill -9")
    ]
    wrong_inside = [
        e for e in inside if e.verdict is Verdict.UNEXPECTED or (e in cut and e not in cut_by_crash)
    ]
    unavailable = [e for e in inside if e.verdict is not Verdict.OK and e.status is not None]
    slowest = max((e.latency for e in unavailable), default=0.0)
    findings.add(
        "inside the fault windows: only expected answers or 503 with Retry-After, each within "
        f"{UNAVAILABLE_BOUND_SECONDS:.0f} s; a change (not a read) cut by a crash is answered 502 "
        "with Retry-After or its kept-alive connection closed",
        not wrong_inside and slowest <= UNAVAILABLE_BOUND_SECONDS,
        f"{len(inside)} answers: {len(unavailable)} with Retry-After "
        f"({Counter(f'{e.status} from {e.replica}' for e in unavailable).most_common(4)}), "
        f"slowest {slowest:.2f} s; {len(cut_by_crash)} changes cut by kill -9 "
        f"({Counter(_cut_as(e) for e in cut_by_crash).most_common(2)}; the customer then found "
        f"out what happened), reads cut: {sum(e.method == 'GET' for e in cut)}; "
        f"{len(wrong_inside)} other" + (f" ({_sample(wrong_inside)})" if wrong_inside else ""),
    )
    findings.numbers["slowest 503 by window"] = {
        w.key: max(
            (e.latency for e in unavailable if w.holds(e.at, e.latency) and e.status == 503),
            default=None,
        )
        for w in windows
    }
    by_window = {
        w.key: Counter(str(e.verdict) for e in events if w.holds(e.at, e.latency)) for w in windows
    }
    findings.numbers["verdicts by window"] = by_window


def _cut(event: Event) -> bool:
    """The answer was lost: HAProxy's 502 (the replica died after the request reached it), or
    the connection closed without an answer (the same on a kept-alive connection)."""
    return event.status is None or (event.status == 502 and event.replica == "haproxy")


def _cut_as(event: Event) -> str:
    return "502 from haproxy" if event.status == 502 else f"closed ({event.detail})"


def _sample(events: list[Event]) -> str:
    return "; ".join(
        f"{e.operation} {e.status} {e.detail} at {e.at:.1f} s via {e.replica}" for e in events[:3]
    )


def _customers_side(findings: Findings, customers: list[Customer], events: list[Event]) -> None:
    double = [e for e in events if e.detail == "a code accepted twice"]
    findings.add(
        "a code accepted at most once (customers' side)", not double, f"{len(double)} twice"
    )
    runs = [run for c in customers for run in c.failure_runs]
    findings.add(
        "at most five failures evaluated per lockout window (customers' side)",
        max(runs, default=0) <= LOCKOUT_AFTER,
        f"{len(runs)} lockouts seen by attackers; longest run of evaluated failures "
        f"{max(runs, default=0)}",
    )


async def _database(findings: Findings, dsn: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        most = await connection.fetchval(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM enrollments"
            " WHERE status = 'active' GROUP BY user_id) AS per_user"
        )
        findings.add(
            f"no customer above {MAX_ACTIVE} active authenticators",
            most <= MAX_ACTIVE,
            f"most active for one customer: {most}",
        )
        wrong_confirmations = await connection.fetchval(
            """SELECT count(*) FROM enrollments e
               LEFT JOIN (SELECT enrollment_id, count(*) AS n FROM audit_events
                          WHERE action = 'enrollment.confirmed' GROUP BY enrollment_id) a
                      ON a.enrollment_id = e.id
               WHERE (e.activated_at IS NOT NULL AND coalesce(a.n, 0) <> 1)
                  OR (e.activated_at IS NULL AND coalesce(a.n, 0) <> 0)"""
        )
        confirmed = await connection.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'enrollment.confirmed'"
        )
        findings.add(
            "exactly one confirmation per enrollment (audit trail)",
            wrong_confirmations == 0,
            f"{confirmed} confirmations; {wrong_confirmations} enrollments with another count",
        )
        rows = await connection.fetch(
            "SELECT user_id, action FROM audit_events WHERE action = ANY($1::text[])"
            " ORDER BY user_id, occurred_at, id",
            [
                "code.rejected",
                "code.replayed",
                "user.locked_out",
                "code.verified",
                "recovery_code.used",
                "enrollment.confirmed",
            ],
        )
        longest, run, user = 0, 0, None
        for row in rows:
            if row["user_id"] != user:
                user, run = row["user_id"], 0
            if row["action"] in ("code.rejected", "code.replayed"):
                run += 1
                longest = max(longest, run)
            else:
                run = 0
        findings.add(
            "at most five failures evaluated per lockout window (audit trail)",
            longest <= LOCKOUT_AFTER,
            f"longest run of evaluated failures before a lockout or success: {longest}",
        )
    finally:
        await connection.close()


async def _pending_after_purge(dsn: str) -> int:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM enrollments WHERE status = 'pending' AND expires_at < now()"
            )
        )
    finally:
        await connection.close()


async def _undelivered(dsn: str) -> tuple[int, int]:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        row = await connection.fetchrow(
            "SELECT count(*) FILTER (WHERE delivered_at IS NULL) AS left,"
            " count(*) AS total FROM notification_outbox"
        )
        return int(row["left"]), int(row["total"])
    finally:
        await connection.close()


def _cli(args: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    mfa_service = tool_beside_python("mfa-service", "run the soak with `uv run`")
    return subprocess.run(  # noqa: S603 - a fixed command line
        [str(mfa_service), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def _factors(
    url: str, customers: list[Customer], idp: IdentityProvider
) -> tuple[int, list[str]]:
    """Every authenticator whose confirmation was answered 200 and that was not removed still
    verifies a fresh code (or, for a locked-out attacker, is still listed as active)."""
    step = step_now() + 1
    await asyncio.sleep(max(0.0, step * PERIOD - time.time() + 0.5))
    lost: list[str] = []
    checked = 0
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for customer in customers:
            token, _ = idp.mint(customer.subject)
            headers = {"Authorization": f"Bearer {token}"}
            listed = await client.get("/settings/MfaSecret", headers=headers)
            active = {str(i["id"]) for i in listed.json()} if listed.status_code == 200 else set()
            for enrollment_id in sorted(customer.confirmed - customer.removed):
                authenticator = next(
                    a for a in customer.authenticators if a.enrollment_id == enrollment_id
                )
                if authenticator.status == "removed":
                    continue  # its removal's answer was lost, and the list showed it gone
                checked += 1
                if customer.attacker:
                    if enrollment_id not in active:
                        lost.append(f"{customer.subject}/{enrollment_id}: not listed")
                    continue
                answer = await client.post(
                    "/mfa/verify",
                    headers=headers,
                    json={"code": code_at(authenticator.secret, step)},
                )
                if answer.status_code != 200:
                    lost.append(f"{customer.subject}/{enrollment_id}: {answer.status_code}")
    return checked, lost


def _logs(
    findings: Findings, logs: list[Path], recorder: Recorder, customers: list[Customer]
) -> None:
    secrets = recorder.tokens | recorder.secrets | recorder.recovery_codes
    codes = {code for c in customers for code in c.sent_codes}
    leaks: list[str] = []
    for log in logs:
        for number, line in enumerate(log.read_text(errors="replace").splitlines(), 1):
            if "process [" in line:
                continue  # uvicorn's lines with process ids
            if any(secret in line for secret in secrets):
                leaks.append(f"{log.name}:{number}: a secret, token or recovery code")
            elif any(found in codes for found in _CODE.findall(line)):
                leaks.append(f"{log.name}:{number}: a code")
    findings.add(
        "no secret, code or token in any replica's log",
        not leaks,
        f"{sum(1 for log in logs for _ in log.open(errors='replace'))} lines read; "
        f"{len(leaks)} leaks" + (f" ({'; '.join(leaks[:3])})" if leaks else ""),
    )


def check_invariants(
    *,
    url: str,
    customers: list[Customer],
    recorder: Recorder,
    windows: list[Window],
    environment: dict[str, str],
    vault: Vault,
    database_dsn: str,
    logs: list[Path],
    folder: Path,
    idp: IdentityProvider,
) -> Findings:
    findings = Findings()
    events = recorder.events
    findings.numbers["answers"] = len(events)
    findings.numbers["verdicts"] = Counter(str(e.verdict) for e in events)
    findings.numbers["operations"] = Counter(e.operation for e in events)
    _answers(findings, events, windows)
    _customers_side(findings, customers, events)
    asyncio.run(_database(findings, database_dsn))

    checked, lost = asyncio.run(_factors(url, customers, idp))
    findings.add(
        "no lost factor: every confirmed authenticator still verifies a fresh code",
        not lost,
        f"{checked} authenticators checked, {len(lost)} lost" + (f" ({lost[:3]})" if lost else ""),
    )

    operator = {**environment, "MFA_VAULT_ADDR": vault.addr, "MFA_VAULT_TOKEN": vault.root_token}
    httpx.post(
        f"{vault.addr}/v1/transit/keys/mfa-totp/rotate",
        headers={"X-Vault-Token": vault.root_token},
        timeout=10,
    ).raise_for_status()
    rewrap = _cli(["rewrap"], operator)
    (folder / "rewrap.log").write_text(rewrap.stdout + rewrap.stderr)
    summary = rewrap.stdout.strip().splitlines()[-1:] or [rewrap.stderr.strip()[-200:]]
    findings.add(
        "no orphan: every stored ciphertext decrypts for its owner (key rotated, then rewrap)",
        rewrap.returncode == 0,
        summary[0],
    )

    purge = _cli(["purge-expired"], environment)
    left = asyncio.run(_pending_after_purge(database_dsn))
    findings.add(
        "no pending enrollment older than its expiry once the purge has run",
        purge.returncode == 0 and left == 0,
        f"{purge.stderr.strip().splitlines()[-1] if purge.stderr.strip() else purge.returncode}; "
        f"{left} expired pending left",
    )

    deadline = time.monotonic() + OUTBOX_CEILING_SECONDS
    undelivered, total = asyncio.run(_undelivered(database_dsn))
    while undelivered and time.monotonic() < deadline:
        time.sleep(1)
        undelivered, total = asyncio.run(_undelivered(database_dsn))
    findings.add(
        "the outbox delivered every notification at least once",
        undelivered == 0,
        f"{total} notifications, {undelivered} undelivered after {OUTBOX_CEILING_SECONDS:.0f} s",
    )
    _logs(findings, logs, recorder, customers)
    return findings
