"""The operator's commands against the real Postgres and Vault: migrate, vault-setup, rewrap."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from adapters.jwt.dev_issuer import DevelopmentIssuer
from adapters.sqlalchemy.engine import create_engine
from entrypoints.composition import create_app
from entrypoints.settings import (
    DEFAULT_AUDIENCE,
    DEVELOPMENT_TOKEN_ISSUER,
    CipherKind,
    Settings,
    VaultConfig,
)
from tests.conftest import SharedVault
from tests.support.in_process import serve_in_process
from tests.support.postgres import fresh_database
from tests.support.processes import cli
from tests.support.sync import run_in_own_loop
from tests.support.vault_server import VaultServer


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        return set(names)
    finally:
        await engine.dispose()


def test_migrate_creates_the_schema_on_postgres() -> None:
    with fresh_database() as url:
        result = cli(["migrate"], {"MFA_DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        assert {
            "enrollments",
            "audit_events",
            "user_throttles",
            "recovery_codes",
        } <= run_in_own_loop(_tables(url))


def test_vault_setup_creates_the_key_once_and_prints_minimal_policies() -> None:
    with VaultServer() as server:
        environment = {"MFA_VAULT_ADDR": server.addr, "MFA_VAULT_TOKEN": server.root_token}
        first = cli(["vault-setup"], environment)
        assert first.returncode == 0, first.stderr
        assert "key created" in first.stderr
        assert 'path "transit/encrypt/mfa-totp"' in first.stdout
        assert 'path "transit/decrypt/mfa-totp"' in first.stdout
        assert '"create"' not in first.stdout
        settings = server.client().secrets.transit.read_key(name="mfa-totp")["data"]
        assert settings["derived"] is True
        assert settings["exportable"] is False
        assert settings["type"] == "aes256-gcm96"
        again = cli(["vault-setup"], environment)
        assert again.returncode == 0
        assert "key present" in again.stderr


async def test_rewrap_moves_every_ciphertext_to_the_newest_key_version(
    tmp_path: Path, shared_vault: SharedVault
) -> None:
    key = f"rewrap-{uuid.uuid4().hex[:8]}"
    root = shared_vault.server.client()
    with fresh_database() as url:
        assert cli(["migrate"], {"MFA_DATABASE_URL": url}).returncode == 0
        environment = {
            "MFA_DATABASE_URL": url,
            "MFA_CIPHER": "vault",
            "MFA_VAULT_ADDR": shared_vault.server.addr,
            "MFA_VAULT_TOKEN": shared_vault.server.root_token,
            "MFA_VAULT_KEY": key,
        }
        assert cli(["vault-setup"], environment).returncode == 0
        settings = Settings(
            data_dir=tmp_path,
            database_url=url,
            cipher=CipherKind.VAULT,
            vault=VaultConfig(
                addr=shared_vault.server.addr, token=shared_vault.server.root_token, key=key
            ),
        )
        issuer = DevelopmentIssuer.load_or_create(
            tmp_path / "dev-issuer", DEVELOPMENT_TOKEN_ISSUER, DEFAULT_AUDIENCE
        )
        async with serve_in_process(create_app(settings)) as client:
            for user in ("alice", "bob", "carol"):
                token = issuer.mint(user, now=int(time.time()))
                response = await client.post(
                    "/settings/MfaSecret",
                    json={"mfaMethod": "totp"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.status_code == 200
        root.secrets.transit.rotate_key(name=key)

        result = cli(["rewrap", "--batch-size", "2"], environment)
        assert result.returncode == 0, result.stderr
        assert "newest key version 2: examined 3, rewrapped 3, already current 0" in result.stdout
        again = cli(["rewrap"], environment)
        assert "rewrapped 0, already current 3" in again.stdout

        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                sealed = (
                    await connection.execute(sa.text("SELECT sealed_secret FROM enrollments"))
                ).scalars()
                assert all(text.startswith("vault:v2:") for text in sealed)
        finally:
            await engine.dispose()
