"""Secret settings from mounted files (``…_FILE``), read once at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.settings import Settings, SettingsError
from tests.unit.test_settings import PRODUCTION


def _secret(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("variable", "read"),
    [
        # the Vault client re-reads this one when it changes (a Vault agent renews it)
        ("MFA_VAULT_TOKEN", lambda s: s.vault.token_file.read_text().strip()),
        ("MFA_VAULT_SECRET_ID", lambda s: s.vault.secret_id),
        ("MFA_VAULT_ROLE_ID", lambda s: s.vault.role_id),
        ("MFA_NOTIFY_WEBHOOK_KEY", lambda s: s.notify_webhook_key),
    ],
)
def test_every_secret_setting_reads_its_file(tmp_path: Path, variable: str, read: object) -> None:
    environment = {**PRODUCTION, "MFA_NOTIFIER": "webhook"}
    environment["MFA_NOTIFY_WEBHOOK_URL"] = "https://hooks.bank.example/mfa"
    environment["MFA_NOTIFY_WEBHOOK_KEY"] = "hook-key"
    if variable == "MFA_VAULT_TOKEN":
        del environment["MFA_VAULT_ROLE_ID"], environment["MFA_VAULT_SECRET_ID"]
    environment.pop(variable, None)
    environment[f"{variable}_FILE"] = _secret(tmp_path, "secret", "from-the-file\n")
    settings = Settings.from_environment(environment)
    assert callable(read)
    assert read(settings) == "from-the-file"


def test_database_url_and_password_come_from_files(tmp_path: Path) -> None:
    environment = {k: v for k, v in PRODUCTION.items() if k != "MFA_DATABASE_URL"}
    environment["MFA_DATABASE_URL_FILE"] = _secret(
        tmp_path, "url", "postgresql+asyncpg://mfa@db.internal:5432/mfa\n"
    )
    environment["MFA_DATABASE_PASSWORD_FILE"] = _secret(tmp_path, "password", "p@ss:w/rd\n")
    settings = Settings.from_environment(environment)
    assert settings.database_url == "postgresql+asyncpg://mfa:p%40ss%3Aw%2Frd@db.internal:5432/mfa"
    assert Settings.for_database(environment).database_url == settings.database_url


def test_a_password_in_the_url_and_beside_it_is_refused(tmp_path: Path) -> None:
    environment = {
        **PRODUCTION,
        "MFA_DATABASE_URL": "postgresql+asyncpg://mfa:one@db.internal/mfa",
        "MFA_DATABASE_PASSWORD": "two",
    }
    with pytest.raises(SettingsError, match="keep one"):
        Settings.from_environment(environment)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "{path} cannot be read: No such file or directory"), ("  \n", "is empty")],
)
def test_an_unreadable_or_empty_secret_file_is_named(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "secret-id"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    environment = {k: v for k, v in PRODUCTION.items() if k != "MFA_VAULT_SECRET_ID"}
    environment["MFA_VAULT_SECRET_ID_FILE"] = str(path)
    with pytest.raises(SettingsError) as raised:
        Settings.from_environment(environment)
    assert f"MFA_VAULT_SECRET_ID_FILE {message.format(path=path)}" in raised.value.problems


def test_a_secret_given_twice_is_refused(tmp_path: Path) -> None:
    environment = {
        **PRODUCTION,
        "MFA_VAULT_SECRET_ID_FILE": _secret(tmp_path, "secret-id", "other"),
    }
    with pytest.raises(SettingsError, match="set MFA_VAULT_SECRET_ID or MFA_VAULT_SECRET_ID_FILE"):
        Settings.from_environment(environment)


def test_a_secret_file_is_never_quoted_in_a_problem(tmp_path: Path) -> None:
    environment = {
        **PRODUCTION,
        "MFA_DATABASE_URL_FILE": _secret(tmp_path, "url", "postgresql://mfa:hunter2@db/mfa"),
    }
    del environment["MFA_DATABASE_URL"]
    with pytest.raises(SettingsError) as raised:
        Settings.from_environment(environment)
    assert "hunter2" not in str(raised.value)
    assert "names the driver 'postgresql'" in str(raised.value)
