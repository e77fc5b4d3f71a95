"""The database URL's driver is checked at start-up, and the operator's jobs read only what they use:
``migrate`` the database settings, ``vault-setup`` Vault's."""

from __future__ import annotations

import pytest

from entrypoints.settings import CipherKind, Settings, SettingsError
from tests.unit.test_settings import PRODUCTION


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://mfa@db/mfa",
        "postgresql+psycopg://mfa@db/mfa",
        "sqlite:///var/mfa.sqlite3",
        "mysql+aiomysql://mfa@db/mfa",
    ],
)
def test_a_database_url_without_a_shipped_driver_is_refused(url: str) -> None:
    for read in (Settings.from_environment, Settings.for_database):
        with pytest.raises(SettingsError, match="MFA_DATABASE_URL names the driver"):
            read({**PRODUCTION, "MFA_DATABASE_URL": url})


def test_an_unparsable_database_url_is_refused_without_quoting_it() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_environment({"MFA_DATABASE_URL": "not a url:secret"})
    assert "MFA_DATABASE_URL is not a database URL" in str(raised.value)
    assert "secret" not in str(raised.value)


def test_migrate_needs_only_the_database_in_production() -> None:
    settings = Settings.for_database(
        {"MFA_ENV": "production", "MFA_DATABASE_URL": PRODUCTION["MFA_DATABASE_URL"]}
    )
    assert settings.database_url == PRODUCTION["MFA_DATABASE_URL"]
    with pytest.raises(SettingsError, match="production needs MFA_DATABASE_URL"):
        Settings.for_database({"MFA_ENV": "production"})


def test_database_jobs_ignore_settings_they_do_not_use() -> None:
    settings = Settings.for_database({"MFA_ISSUER": "bad:issuer", "MFA_CIPHER": "vault"})
    assert settings.database_url.startswith("sqlite+aiosqlite:///")


def test_vault_setup_needs_only_vault() -> None:
    settings = Settings.for_vault(
        {"MFA_ENV": "production", "MFA_VAULT_ADDR": "https://vault:8200", "MFA_VAULT_TOKEN": "t"}
    )
    assert settings.cipher is CipherKind.VAULT
    assert settings.vault is not None
    assert settings.vault.addr == "https://vault:8200"
    with pytest.raises(SettingsError, match="MFA_CIPHER=vault needs MFA_VAULT_ADDR"):
        Settings.for_vault({"MFA_ENV": "production"})
