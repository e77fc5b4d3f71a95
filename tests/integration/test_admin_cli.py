"""``mfa-service admin …``, run as its own process like an operator at the console would, on the
development profile's database: every operation, audited as ``cli:<os user>``."""

from __future__ import annotations

import getpass
import json
import sqlite3
from pathlib import Path

import httpx

from tests.support.processes import cli, running_service


def _development(tmp_path: Path) -> dict[str, str]:
    return {"MFA_DATA_DIR": str(tmp_path / "var"), "MFA_ISSUER": "Example Bank"}


def _admin(environment: dict[str, str], *args: str) -> str:
    result = cli(["admin", *args], environment)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _rows_holding(database: Path, text: str) -> list[str]:
    with sqlite3.connect(database) as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        found = []
        for table in tables:
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            for column in columns:
                hits = connection.execute(
                    f"SELECT count(*) FROM {table} WHERE CAST({column} AS TEXT) LIKE ?",  # noqa: S608
                    (f"%{text}%",),
                ).fetchone()[0]
                if hits:
                    found.append(f"{table}.{column}")
        return found


def test_every_admin_operation_from_the_console_is_audited_as_the_os_user(
    tmp_path: Path,
) -> None:
    environment = _development(tmp_path)
    with running_service(environment, log_file=tmp_path / "service.log") as base_url:
        token = cli(["dev-token", "--sub", "alice"], environment).stdout.strip()
        response = httpx.post(
            f"{base_url}/settings/MfaSecret",
            json={"mfaMethod": "totp"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
    enrollment_id = response.json()["enrollmentId"]
    actor = f"cli:{getpass.getuser()}"

    listed = json.loads(_admin(environment, "list", "alice"))
    assert [a["id"] for a in listed["authenticators"]] == [enrollment_id]
    assert listed["lockout"] == {"failures": 0, "lockedUntil": None}
    unlocked = cli(["admin", "unlock", "alice", "--reason", "call"], environment)
    assert unlocked.returncode == 0 and "nothing to lift" in unlocked.stderr
    reset = json.loads(
        _admin(environment, "reset", "alice", "--reason", "lost phone", "--ticket", "T-1")
    )
    assert reset == {"revoked": 0, "pendingCancelled": 1, "recoveryCodesVoided": 0}
    page = json.loads(_admin(environment, "audit", "--user", "alice", "--limit", "2"))
    assert [e["action"] for e in page["events"]] == ["admin.factors_reset", "admin.unlocked"]
    assert {e["actor"] for e in page["events"]} == {actor}
    assert page["events"][0]["ticket"] == "T-1"
    rest = json.loads(_admin(environment, "audit", "--user", "alice", "--cursor", page["cursor"]))
    assert [e["action"] for e in rest["events"]][-1] == "enrollment.started"

    refused = cli(["admin", "reset", "alice", "--reason", "x" * 501], environment)
    assert refused.returncode != 0 and "reason" in refused.stderr

    report = json.loads(_admin(environment, "erase", "alice", "--reason", "GDPR request", "--yes"))
    assert (
        report["auditEventsPseudonymised"]
        if "auditEventsPseudonymised" in report
        else report["audit_events_pseudonymised"]
    )
    unknown = cli(["admin", "list", "alice"], environment)
    assert unknown.returncode != 0 and "UserNotFound" in unknown.stderr
    assert _rows_holding(tmp_path / "var" / "mfa.sqlite3", "alice") == []
    exported = [
        json.loads(line)
        for line in _admin(environment, "audit", "--export", "--actor", actor).splitlines()
    ]
    erased = [e for e in exported if e["action"] == "admin.user_erased"]
    assert len(erased) == 1 and erased[0]["userId"].startswith("pseudonym:")
