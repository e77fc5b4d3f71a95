"""A start-up that cannot succeed ends the process with a non-zero status and a few lines that name
the setting, the target (no credentials) and the cause; the traceback only at MFA_LOG_LEVEL=DEBUG.
Real processes against the real Postgres and OpenBao."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.contract.http.tokens import TokenIssuer
from tests.support.postgres import ADMIN_DSN, fresh_database
from tests.support.processes import cli, free_port
from tests.support.vault_server import VaultServer

MAX_LINES = 5
"""The error line, and what the service logs before it (Alembic's two, a Vault warning)."""


def _production(tmp_path: Path, database_url: str, vault_addr: str) -> dict[str, str]:
    jwks = TokenIssuer("https://idp.test/", "mfa-service").write_jwks(tmp_path / "jwks.json")
    return {
        "MFA_ENV": "production",
        "MFA_DATABASE_URL": database_url,
        "MFA_CIPHER": "vault",
        "MFA_VAULT_ADDR": vault_addr,
        "MFA_VAULT_TOKEN": "s.not-a-real-token",
        "MFA_JWKS_FILE": str(jwks),
        "MFA_TOKEN_ISSUER": "https://idp.test/",
        "MFA_TOKEN_AUDIENCE": "mfa-service",
        "MFA_ISSUER": "Example Bank",
        "MFA_ADMIN_SCOPE": "mfa-admin",
        "MFA_PSEUDONYM_KEY": "k" * 32,
    }


def _server_base() -> str:
    return ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)


def _closed_vault_addr() -> str:
    return f"http://127.0.0.1:{free_port()}"


def _assert_short(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert result.returncode != 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= MAX_LINES, result.stderr
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in lines[-1], result.stderr
    return lines[-1]


def test_a_database_url_without_the_async_driver_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    url = _server_base().replace("+asyncpg", "") + "/mfa"
    result = cli(
        ["serve", "--port", str(free_port())], _production(tmp_path, url, "http://127.0.0.1:1")
    )
    assert result.returncode != 0
    assert "MFA_DATABASE_URL names the driver 'postgresql'" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3


def test_a_missing_database_is_named_without_the_password(tmp_path: Path) -> None:
    name = f"mfa_missing_{secrets.token_hex(4)}"
    url = _server_base().replace("://postgres@", "://postgres:hunter2@", 1) + f"/{name}"
    result = cli(
        ["serve", "--port", str(free_port())], _production(tmp_path, url, "http://127.0.0.1:1")
    )
    line = _assert_short(result, "MFA_DATABASE_URL", f"/{name})", "does not exist")
    assert "hunter2" not in result.stderr
    assert "postgres@" not in line


def test_an_unreachable_vault_is_named_with_its_address(tmp_path: Path) -> None:
    addr = _closed_vault_addr()
    with fresh_database() as url:
        assert cli(["migrate"], {"MFA_ENV": "production", "MFA_DATABASE_URL": url}).returncode == 0
        result = cli(["serve", "--port", str(free_port())], _production(tmp_path, url, addr))
    _assert_short(result, f"MFA_VAULT_ADDR ({addr})", "unavailable")


def test_the_traceback_is_shown_at_debug_level(tmp_path: Path) -> None:
    url = f"{_server_base()}/mfa_missing_{secrets.token_hex(4)}"
    environment = {**_production(tmp_path, url, "http://127.0.0.1:1"), "MFA_LOG_LEVEL": "DEBUG"}
    result = cli(["serve", "--port", str(free_port())], environment)
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "does not exist" in result.stderr.strip().splitlines()[-1]


def test_a_worker_that_cannot_start_logs_one_line_and_no_traceback(tmp_path: Path) -> None:
    """Without the command's check first: uvicorn on the factory, as a worker starts."""
    url = f"{_server_base()}/mfa_missing_{secrets.token_hex(4)}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "entrypoints.asgi:app_from_environment",
            "--port",
            str(free_port()),
            "--log-level",
            "info",
        ],
        env={**os.environ, **_production(tmp_path, url, "http://127.0.0.1:1")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "cannot start: MFA_DATABASE_URL" in result.stderr
    assert "does not exist" in result.stderr


def test_migrate_in_production_needs_only_the_database() -> None:
    with fresh_database() as url:
        result = cli(["migrate"], {"MFA_ENV": "production", "MFA_DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        purged = cli(["purge-expired"], {"MFA_ENV": "production", "MFA_DATABASE_URL": url})
        assert purged.returncode == 0, purged.stderr
    missing = cli(["migrate"], {"MFA_ENV": "production"})
    assert missing.returncode != 0
    assert "production needs MFA_DATABASE_URL" in missing.stderr


def test_vault_setup_in_production_needs_only_vault(tmp_path: Path) -> None:
    with VaultServer() as server:
        token_file = tmp_path / "operator-token"
        token_file.write_text(server.root_token + "\n", encoding="utf-8")
        environment = {
            "MFA_ENV": "production",
            "MFA_VAULT_ADDR": server.addr,
            "MFA_VAULT_TOKEN_FILE": str(token_file),
        }
        result = cli(["vault-setup"], environment)
        assert result.returncode == 0, result.stderr
        assert "key created" in result.stderr


def test_vault_setup_against_no_vault_is_one_line() -> None:
    addr = _closed_vault_addr()
    result = cli(["vault-setup"], {"MFA_VAULT_ADDR": addr, "MFA_VAULT_TOKEN": "t"})
    _assert_short(result, f"MFA_VAULT_ADDR ({addr})", "Connection refused")
