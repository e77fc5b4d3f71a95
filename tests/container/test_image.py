"""The image as a platform team runs it: built from the lock file on a Debian base, its jobs
(``migrate``, ``vault-setup``) run from it, and the HTTP contract suite passes against it, on the
test Postgres and a real OpenBao server, with secrets mounted as files, non-root, read-only."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.container.token_command import write_identity_provider
from tests.contract.http.http_server import CountingServer
from tests.contract.http.tokens import TokenIssuer
from tests.support.podman import (
    ROOT,
    Container,
    build_image,
    inspect_image,
    podman,
    run_once,
    running_container,
)
from tests.support.postgres import PostgresUnavailable, fresh_database
from tests.support.processes import free_port
from tests.support.vault_server import VaultServer

TOKEN_ISSUER = "https://idp.image.test/"
TOKEN_AUDIENCE = "mfa-service-image"
SECRETS = "/run/secrets/mfa"
CONTRACT_TIMEOUT_SECONDS = 40 * 60
DEV_MODULES = ("pytest", "mypy", "ruff", "schemathesis", "hypothesis")


@pytest.fixture(scope="module")
def image() -> str:
    return build_image()


@dataclass(frozen=True)
class Deployment:
    container: Container
    identity_provider_file: Path
    jwks_url: str
    migrate_output: str
    vault_setup_output: str


def _secret_file(directory: Path, name: str, content: str) -> Path:
    path = directory / name
    path.write_text(content + "\n", encoding="utf-8")
    path.chmod(0o644)  # the image's user (10001) reads it, as a Kubernetes secret volume allows
    return path


@pytest.fixture(scope="module")
def deployment(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    directory = tmp_path_factory.mktemp("image")
    identity_provider = TokenIssuer(TOKEN_ISSUER, TOKEN_AUDIENCE, scope="openid mfa")
    with ExitStack() as stack:
        try:
            database_url = stack.enter_context(fresh_database())
        except PostgresUnavailable as error:
            pytest.fail(str(error), pytrace=False)
        vault = stack.enter_context(VaultServer())
        idp = stack.enter_context(CountingServer(identity_provider.public_jwks()).running())
        database_file = _secret_file(directory, "database-url", database_url)
        migrated = run_once(
            image,
            ["mfa-service", "migrate"],
            {"MFA_DATABASE_URL_FILE": f"{SECRETS}/database-url"},
            {database_file: f"{SECRETS}/database-url"},
        )
        assert migrated.returncode == 0, migrated.stderr
        operator_token = _secret_file(directory, "operator-token", vault.root_token)
        set_up = run_once(
            image,
            ["mfa-service", "vault-setup"],
            {"MFA_VAULT_ADDR": vault.addr, "MFA_VAULT_TOKEN_FILE": f"{SECRETS}/vault-token"},
            {operator_token: f"{SECRETS}/vault-token"},
        )
        assert set_up.returncode == 0, set_up.stderr
        service_token = _service_token(vault, set_up.stdout)
        jwks = identity_provider.write_jwks(directory / "jwks.json")
        jwks.chmod(0o644)
        mounts = {
            database_file: f"{SECRETS}/database-url",
            _secret_file(directory, "vault-token", service_token): f"{SECRETS}/vault-token",
            jwks: "/etc/mfa/jwks.json",
            _secret_file(directory, "pseudonym-key", "p" * 32): f"{SECRETS}/pseudonym-key",
        }
        environment = {
            "MFA_DATABASE_URL_FILE": f"{SECRETS}/database-url",
            "MFA_CIPHER": "vault",
            "MFA_VAULT_ADDR": vault.addr,
            "MFA_VAULT_TOKEN_FILE": f"{SECRETS}/vault-token",
            "MFA_JWKS_FILE": "/etc/mfa/jwks.json",
            "MFA_TOKEN_ISSUER": TOKEN_ISSUER,
            "MFA_TOKEN_AUDIENCE": TOKEN_AUDIENCE,
            "MFA_REQUIRED_SCOPE": "mfa",
            "MFA_ISSUER": "Image Bank",
            "MFA_ADMIN_SCOPE": "mfa-admin",
            "MFA_PSEUDONYM_KEY_FILE": f"{SECRETS}/pseudonym-key",
        }
        container = stack.enter_context(running_container(image, environment, mounts, free_port()))
        yield Deployment(
            container=container,
            identity_provider_file=write_identity_provider(
                identity_provider, directory / "identity-provider.json"
            ),
            jwks_url=f"{idp.url}/jwks.json",
            migrate_output=migrated.stderr,
            vault_setup_output=set_up.stderr,
        )


def _service_token(vault: VaultServer, vault_setup_stdout: str) -> str:
    """A token holding only the service policy vault-setup printed, as the operator installs it."""
    policy = vault_setup_stdout.split("# policy for the rotation job")[0]
    root = vault.client()
    root.sys.create_or_update_policy("mfa-service", policy)
    token: str = root.auth.token.create(policies=["mfa-service"], ttl="2h")["auth"]["client_token"]
    return token


def test_the_image_says_what_it_is_and_runs_as_nobody(image: str) -> None:
    found = inspect_image(image)
    labels = found["Labels"]
    assert labels["org.opencontainers.image.version"] == version("mfa-service")
    assert labels["org.opencontainers.image.revision"] not in ("", "unknown")
    assert labels["org.opencontainers.image.source"].startswith("https://")
    assert found["User"] == "10001:10001"
    assert "MFA_PORT" in " ".join(found["Healthcheck"]["Test"])
    printed = run_once(image, ["mfa-service", "--version"], {}, {})
    assert printed.stdout.strip() == f"mfa-service, version {version('mfa-service')}"


def test_the_image_holds_no_development_tool(image: str) -> None:
    checks = f"import importlib.util as u; print([m for m in {DEV_MODULES!r} if u.find_spec(m)])"
    found = run_once(image, ["python3.11", "-c", checks], {}, {})
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[]", f"development modules in the image: {found.stdout}"


def test_jobs_ran_from_the_image_with_secrets_from_files(deployment: Deployment) -> None:
    assert "database schema is up to date" in deployment.migrate_output
    assert "key created" in deployment.vault_setup_output


def test_the_container_runs_non_root_on_a_read_only_root(deployment: Deployment) -> None:
    name = deployment.container.name
    assert podman("exec", name, "id", "-u").stdout.strip() == "10001"
    refused = podman("exec", name, "python3.11", "-c", "open('/app/written', 'w')")
    assert refused.returncode != 0
    assert "Read-only file system" in refused.stderr


def test_the_health_check_follows_the_configured_port(deployment: Deployment) -> None:
    checked = podman("healthcheck", "run", deployment.container.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_contract_suite_passes_against_the_container(deployment: Deployment) -> None:
    token_command = (
        f"{sys.executable} -m tests.container.token_command "
        f"{deployment.identity_provider_file} {{sub}}"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/contract/http",
            "-q",
            "-p",
            "no:cacheprovider",
            "--base-url",
            deployment.container.base_url,
            "--token-command",
            token_command,
            "--jwks-url",
            deployment.jwks_url,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CONTRACT_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, (
        f"{result.stdout[-6000:]}\n{result.stderr[-2000:]}\n"
        f"container log:\n{deployment.container.logs()[-3000:]}"
    )
    assert " passed" in result.stdout
