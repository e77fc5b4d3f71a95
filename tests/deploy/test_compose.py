"""compose.yaml: valid against the Compose Specification's schema and as podman-compose reads it,
and the stack it describes is the one the README promises (checked offline: no image is pulled)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
HAPROXY = ROOT / "deploy" / "compose" / "haproxy.cfg"
REPLICAS = ("mfa-a", "mfa-b")
JOBS = ("migrate", "vault-setup", "vault-service-token")
IDENTITY_PROVIDER = {
    "MFA_JWKS_URL": "https://idp.bank.example/.well-known/jwks.json",
    "MFA_TOKEN_ISSUER": "https://idp.bank.example",
}


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        arguments,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
        env={**os.environ, **IDENTITY_PROVIDER},
    )


def _stack() -> dict[str, Any]:
    """The file as podman-compose resolves it (anchors, merges and variables applied)."""
    result = _run(_tool("podman-compose"), "-f", str(COMPOSE), "config")
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = yaml.safe_load(result.stdout)
    return loaded


def test_compose_file_follows_the_compose_specification() -> None:
    result = _run(
        _tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_identity_provider_must_be_given() -> None:
    result = subprocess.run(
        [_tool("podman-compose"), "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in IDENTITY_PROVIDER},
    )
    assert result.returncode != 0
    assert "MFA_JWKS_URL" in result.stdout + result.stderr


def test_two_replicas_start_after_the_jobs_and_run_locked_down() -> None:
    services = _stack()["services"]
    for name in REPLICAS:
        replica = services[name]
        assert replica["read_only"] is True
        assert replica["user"] == "10001:10001"
        assert replica["cap_drop"] == ["ALL"]
        assert "MFA_PORT" in " ".join(replica["healthcheck"]["test"])
        conditions = {dep: spec["condition"] for dep, spec in replica["depends_on"].items()}
        assert conditions["migrate"] == "service_completed_successfully"
        assert conditions["vault-service-token"] == "service_completed_successfully"
        environment = replica["environment"]
        assert environment["MFA_VAULT_TOKEN_FILE"].startswith("/")
        assert environment["MFA_DATABASE_PASSWORD_FILE"] == "/run/secrets/postgres-password"
        assert "MFA_DATABASE_PASSWORD" not in environment
    assert set(services["migrate"]["environment"]) == {
        "MFA_ENV",
        "MFA_DATABASE_URL",
        "MFA_DATABASE_PASSWORD_FILE",
    }


def test_every_long_running_service_has_a_health_check() -> None:
    services = _stack()["services"]
    for name, service in services.items():
        if name in JOBS:
            assert service["restart"] == "no", name
        else:
            assert service["healthcheck"]["test"], name
    assert set(services["haproxy"]["depends_on"]) == set(REPLICAS)


def test_the_load_balancer_checks_both_replicas_and_hides_metrics() -> None:
    config = HAPROXY.read_text(encoding="utf-8")
    for name in REPLICAS:
        assert f"server {name} {name}:8000" in config
    assert "option httpchk GET /health/ready" in config
    assert "deny deny_status 404 if { path_beg /metrics }" in config
    checked = _run("haproxy", "-c", "-f", str(HAPROXY))
    assert checked.returncode == 0, checked.stdout + checked.stderr
