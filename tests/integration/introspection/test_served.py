"""``mfa-service serve`` in the production profile with opaque tokens only, configured as README
"Production" shows it: Postgres, Vault, ``MFA_TOKEN_MODE=introspection`` with ``private_key_jwt`` and
no JWKS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import ECKey

from tests.conftest import SharedVault
from tests.contract.http.api import assert_invalid_token, bearer
from tests.integration.introspection.conftest import (
    AUDIENCE,
    CLIENT_ID,
    ISSUER,
    answer_claims,
)
from tests.support.introspection_server import IntrospectionServer
from tests.support.processes import cli, running_service

ENROLLMENTS = "/settings/MfaSecret"


@pytest.fixture
def client_key(tmp_path: Path) -> tuple[Path, ECKey]:
    key = ECKey.generate_key("P-256", auto_kid=True)
    path = tmp_path / "introspection-client-key.json"
    path.write_text(json.dumps(key.as_dict(private=True)))
    return path, key


@pytest.fixture
def key_idp(client_key: tuple[Path, ECKey]) -> Iterator[IntrospectionServer]:
    public = ECKey.import_key(client_key[1].as_dict(private=False))
    server = IntrospectionServer(
        client_id=CLIENT_ID, client_public_key=public, method="private_key_jwt"
    )
    with server.running():
        yield server


def _environment(
    postgres_url: str, vault: SharedVault, idp: IntrospectionServer, key_file: Path, data: Path
) -> dict[str, str]:
    return {
        "MFA_ENV": "production",
        "MFA_DATA_DIR": str(data),
        "MFA_DATABASE_URL": postgres_url,
        "MFA_CIPHER": "vault",
        "MFA_VAULT_ADDR": vault.server.addr,
        "MFA_VAULT_TOKEN": vault.service_token,
        "MFA_TOKEN_MODE": "introspection",
        "MFA_INTROSPECTION_URL": idp.url,
        "MFA_INTROSPECTION_CLIENT_ID": CLIENT_ID,
        "MFA_INTROSPECTION_PRIVATE_KEY_FILE": str(key_file),
        "MFA_INTROSPECTION_TIMEOUT": "10",
        "MFA_TOKEN_ISSUER": ISSUER,
        "MFA_TOKEN_AUDIENCE": AUDIENCE,
        "MFA_REQUIRED_SCOPE": "mfa",
        "MFA_ISSUER": "Example Bank",
        "MFA_ADMIN_SCOPE": "mfa-helpdesk",
        "MFA_PSEUDONYM_KEY": "a-pseudonym-key-of-at-least-32-bytes-for-tests",
    }


def test_the_production_service_serves_opaque_tokens(
    tmp_path: Path,
    postgres_url: str,
    shared_vault: SharedVault,
    key_idp: IntrospectionServer,
    client_key: tuple[Path, ECKey],
) -> None:
    environment = _environment(postgres_url, shared_vault, key_idp, client_key[0], tmp_path)
    token = key_idp.issue(answer_claims("served-alice", preferred_username="alice@bank.example"))

    with running_service(environment, log_file=tmp_path / "service.log") as base_url:
        enrolled = httpx.post(
            f"{base_url}{ENROLLMENTS}",
            headers=bearer(token),
            json={"mfaMethod": "totp"},
            timeout=60,
        )
        unknown = httpx.get(f"{base_url}{ENROLLMENTS}", headers=bearer("unknown"), timeout=60)

    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.json()["accountName"] == "alice@bank.example"
    assert_invalid_token(unknown)
    assert key_idp.refused_clients == 0
    assert token not in (tmp_path / "service.log").read_text()


def test_an_unreadable_client_key_stops_the_start_with_a_clear_message(
    tmp_path: Path, postgres_url: str, shared_vault: SharedVault, key_idp: IntrospectionServer
) -> None:
    key_file = tmp_path / "not-a-key.pem"
    key_file.write_text("-----BEGIN NOTHING-----\n")
    environment = _environment(postgres_url, shared_vault, key_idp, key_file, tmp_path)

    refused = pytest.raises(RuntimeError, match="does not hold a private RSA, EC or Ed25519 key")
    with refused, running_service(environment, log_file=tmp_path / "service.log"):
        pass


def test_production_settings_name_what_introspection_lacks() -> None:
    result = cli(
        ["serve"],  # serve reads every setting; migrate only the database's
        {
            "MFA_ENV": "production",
            "MFA_TOKEN_MODE": "introspection",
            "MFA_INTROSPECTION_URL": "http://idp.bank.example/introspect",
        },
    )

    assert result.returncode != 0
    assert "MFA_INTROSPECTION_URL must use https" in result.stderr
    assert "token introspection needs MFA_INTROSPECTION_CLIENT_ID" in result.stderr
