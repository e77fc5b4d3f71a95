"""The ``mfa-service`` command, run as a separate process like an operator would."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import httpx
import pyotp

from tests.support.processes import cli, running_service


def _development(tmp_path: Path) -> dict[str, str]:
    return {"MFA_DATA_DIR": str(tmp_path / "var"), "MFA_ISSUER": "Example Bank"}


def test_served_app_enrolls_with_a_development_token(tmp_path: Path) -> None:
    environment = _development(tmp_path)
    with running_service(environment, log_file=tmp_path / "service.log") as base_url:
        token = cli(["dev-token", "--sub", "alice"], environment).stdout.strip()
        response = httpx.post(
            f"{base_url}/settings/MfaSecret",
            json={"mfaMethod": "totp"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert pyotp.parse_uri(body["otpauthUri"]).secret == body["secret"]
        ready = httpx.get(f"{base_url}/health/ready", timeout=5)
        ready_head = httpx.head(f"{base_url}/health/ready", timeout=5)
        assert (ready.status_code, ready_head.status_code, ready_head.content) == (200, 200, b"")
        assert ready_head.headers["content-length"] == ready.headers["content-length"]
    log = (tmp_path / "service.log").read_text()
    assert token not in log
    assert body["secret"] not in log
    access = [json.loads(line) for line in log.splitlines() if '"mfa.access"' in line]
    logged = [(a["method"], a["route"], a["status"]) for a in access]
    assert ("POST", "/settings/MfaSecret", 200) in logged
    assert ("HEAD", "/health/ready", 200) in logged
    assert [a["bytes"] for a in access if a["method"] == "HEAD"] == [0]


def test_several_workers_share_one_development_key(tmp_path: Path) -> None:
    environment = _development(tmp_path)
    with running_service(environment, "--workers", "2", log_file=tmp_path / "s.log") as base_url:
        token = cli(["dev-token", "--sub", "bob"], environment).stdout.strip()
        for _ in range(6):
            response = httpx.post(
                f"{base_url}/settings/MfaSecret",
                json={"mfaMethod": "totp"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert response.status_code == 200, response.text
    keys = list((tmp_path / "var").glob("*.key"))
    assert len(keys) == 1


def test_development_profile_refuses_to_listen_beyond_loopback(tmp_path: Path) -> None:
    result = cli(["serve", "--host", "0.0.0.0"], _development(tmp_path))
    assert result.returncode != 0
    assert "loopback" in result.stderr


def test_dev_token_is_refused_in_production(tmp_path: Path) -> None:
    result = cli(
        ["dev-token", "--sub", "alice"], {**_development(tmp_path), "MFA_ENV": "production"}
    )
    assert result.returncode != 0
    assert "invalid configuration" in result.stderr or "development profile" in result.stderr


def test_invalid_configuration_is_explained(tmp_path: Path) -> None:
    # serve reads every setting; migrate reads only the database's (test_startup_errors.py)
    result = cli(["serve"], {**_development(tmp_path), "MFA_TOTP_DIGITS": "12"})
    assert result.returncode != 0
    assert "MFA_TOTP" in result.stderr


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    environment = _development(tmp_path)
    result = cli(["migrate"], environment)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "var" / "mfa.sqlite3") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"enrollments", "audit_events", "alembic_version"} <= tables


def test_dev_token_carries_auth_time_and_ttl(tmp_path: Path) -> None:
    import base64
    import json

    result = cli(
        ["dev-token", "--sub", "carol", "--ttl", "60", "--auth-time", "1700000000"],
        _development(tmp_path),
    )
    payload = result.stdout.strip().split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    assert claims["sub"] == "carol"
    assert claims["auth_time"] == 1700000000
    assert claims["exp"] - claims["iat"] == 60


def test_purge_expired_removes_only_expired_pending_enrollments(tmp_path: Path) -> None:
    environment = {**_development(tmp_path), "MFA_PENDING_TTL_SECONDS": "60"}
    assert cli(["migrate"], environment).returncode == 0
    database = tmp_path / "var" / "mfa.sqlite3"
    with sqlite3.connect(database) as connection:
        for name, expires in (("old", "2000-01-01 00:00:00"), ("fresh", "2999-01-01 00:00:00")):
            connection.execute(
                "INSERT INTO enrollments (id, user_id, method, status, algorithm, digits, period,"
                " sealed_secret, created_at, expires_at, version) VALUES"
                " (?, ?, 'totp', 'pending', 'SHA1', 6, 30, 'local:v1:AAAA', ?, ?, 1)",
                (name.ljust(32, "0"), name, "2000-01-01 00:00:00", expires),
            )
    result = cli(["purge-expired"], environment)
    assert result.returncode == 0, result.stderr
    assert "removed 1 expired" in result.stderr
    with sqlite3.connect(database) as connection:
        assert [row[0] for row in connection.execute("SELECT user_id FROM enrollments")] == [
            "fresh"
        ]


def test_every_scrape_counts_the_requests_of_every_worker(tmp_path: Path) -> None:
    environment = _development(tmp_path)
    log_file = tmp_path / "s.log"
    with (
        running_service(environment, "--workers", "2", log_file=log_file) as base_url,
        httpx.Client(base_url=base_url, timeout=5) as client,
    ):
        for _ in range(20):
            assert client.get("/health/ready").status_code == 200
        scrapes = [client.get("/metrics").text for _ in range(6)]
    ready = re.compile(r'^mfa_requests_total\{[^}]*path="/health/ready"[^}]*\} (\S+)$', re.M)
    assert [float(ready.findall(text)[0]) for text in scrapes] == [20.0] * 6
