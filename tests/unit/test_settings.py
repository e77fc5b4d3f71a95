from pathlib import Path

import pytest

from domain.policy import HashAlgorithm, TotpPolicy
from entrypoints.settings import CipherKind, Profile, Settings, SettingsError, is_loopback

PRODUCTION = {
    "MFA_ENV": "production",
    "MFA_DATABASE_URL": "postgresql+asyncpg://mfa@db.internal/mfa",
    "MFA_CIPHER": "vault",
    "MFA_VAULT_ADDR": "https://vault.internal:8200",
    "MFA_VAULT_ROLE_ID": "mfa-service",
    "MFA_VAULT_SECRET_ID": "s3cr3t-id",
    "MFA_JWKS_URL": "https://idp.bank.example/.well-known/jwks.json",
    "MFA_TOKEN_ISSUER": "https://idp.bank.example",
    "MFA_TOKEN_AUDIENCE": "mfa-service",
    "MFA_ISSUER": "Example Bank",
    "MFA_ADMIN_SCOPE": "mfa-helpdesk",
    "MFA_PSEUDONYM_KEY_FILE": "/run/secrets/mfa-pseudonym-key",
}


def test_empty_environment_is_the_embedded_development_default() -> None:
    settings = Settings.from_environment({})
    assert settings.profile is Profile.DEVELOPMENT
    assert settings.database_url == "sqlite+aiosqlite:///var/mfa.sqlite3"
    assert settings.cipher is CipherKind.LOCAL
    assert settings.uses_development_issuer
    assert settings.totp_policy == TotpPolicy()


def test_policy_comes_from_the_environment() -> None:
    settings = Settings.from_environment(
        {"MFA_TOTP_ALGORITHM": "SHA256", "MFA_TOTP_DIGITS": "8", "MFA_TOTP_PERIOD": "60"}
    )
    assert settings.totp_policy == TotpPolicy(HashAlgorithm.SHA256, 8, 60)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_environment(
            {"MFA_ENV": "staging", "MFA_TOTP_DIGITS": "nine", "MFA_PENDING_TTL_SECONDS": "5"}
        )
    text = str(raised.value)
    assert "MFA_ENV" in text
    assert "MFA_TOTP_DIGITS" in text
    assert "MFA_PENDING_TTL_SECONDS" in text


def test_invalid_totp_policy_is_refused_at_start_up() -> None:
    with pytest.raises(SettingsError, match="MFA_TOTP"):
        Settings.from_environment({"MFA_TOTP_DIGITS": "10"})


def test_issuer_with_a_colon_is_refused() -> None:
    with pytest.raises(SettingsError, match="MFA_ISSUER"):
        Settings.from_environment({"MFA_ISSUER": "Bank:Evil"})


@pytest.mark.parametrize(
    ("issuer", "why"),
    [
        (" Example Bank", "cleaned, it would read 'Example Bank'"),
        ("Example Bank\u202e", "cleaned, it would read 'Example Bank'"),
        ("Banque Ge\u0301ne\u0301rale", "cleaned, it would read 'Banque Générale'"),
        ("Ünïcödé Bänk Ünïcödé Bänk Ünïcödé", "too long for a QR code"),
    ],
)
def test_an_issuer_that_is_not_shown_as_written_or_cannot_fit_is_refused(
    issuer: str, why: str
) -> None:
    with pytest.raises(SettingsError, match="MFA_ISSUER") as refused:
        Settings.from_environment({"MFA_ISSUER": issuer, "MFA_TOTP_ALGORITHM": "SHA512"})
    assert why in str(refused.value)


def test_complete_production_configuration_is_accepted() -> None:
    settings = Settings.from_environment(PRODUCTION)
    assert settings.profile is Profile.PRODUCTION
    assert not settings.uses_development_issuer


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"MFA_CIPHER": "local"}, "local development key"),
        ({"MFA_JWKS_URL": ""}, "MFA_JWKS_URL or MFA_JWKS_FILE"),
        ({"MFA_TOKEN_ISSUER": "urn:mfa-service:development-issuer"}, "MFA_TOKEN_ISSUER"),
        ({"MFA_DATABASE_URL": "sqlite+aiosqlite:///x.db"}, "MFA_DATABASE_URL"),
        ({"MFA_JWKS_URL": "http://idp.bank.example/jwks"}, "https"),
        ({"MFA_ADMIN_SCOPE": ""}, "MFA_ADMIN_SCOPE"),
        ({"MFA_PSEUDONYM_KEY_FILE": ""}, "MFA_PSEUDONYM_KEY"),
        ({"MFA_PSEUDONYM_KEY": "k" * 40}, "not both"),
        ({"MFA_REQUIRED_SCOPE": "mfa-helpdesk"}, "must differ from MFA_REQUIRED_SCOPE"),
        ({"MFA_PSEUDONYM_KEY_FILE": "", "MFA_PSEUDONYM_KEY": "short"}, "at least 32 bytes"),
    ],
)
def test_production_refuses_development_shortcuts(change: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_environment({**PRODUCTION, **change})


@pytest.mark.parametrize("missing", ["MFA_TOKEN_AUDIENCE", "MFA_ISSUER", "MFA_TOKEN_ISSUER"])
def test_production_needs_its_identity_settings(missing: str) -> None:
    environment = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(SettingsError, match=missing):
        Settings.from_environment(environment)


def test_data_folder_moves_every_local_file() -> None:
    settings = Settings.from_environment({"MFA_DATA_DIR": "/srv/mfa"})
    assert settings.local_key_file == Path("/srv/mfa/secret-encryption.key")
    assert settings.database_url == "sqlite+aiosqlite:////srv/mfa/mfa.sqlite3"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"MFA_VAULT_ADDR": ""}, "MFA_VAULT_ADDR"),
        ({"MFA_VAULT_ADDR": "http://vault.internal:8200"}, "https"),
        ({"MFA_VAULT_SECRET_ID": ""}, "AppRole needs both"),
        ({"MFA_VAULT_TOKEN": "hvs.x"}, "one of them"),
        ({"MFA_VAULT_TOKEN_FILE": "/run/vault/token"}, "one of them"),
        ({"MFA_VAULT_K8S_ROLE": "mfa-service"}, "one of them"),
        ({"MFA_VAULT_TIMEOUT": "30"}, "MFA_VAULT_TIMEOUT"),
        ({"MFA_VAULT_MAX_CONNECTIONS": "0"}, "MFA_VAULT_MAX_CONNECTIONS"),
        ({"MFA_NOTIFIER": "webhook"}, "MFA_NOTIFY_WEBHOOK_URL"),
    ],
)
def test_vault_and_notifier_settings_are_checked(change: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_environment({**PRODUCTION, **change})


def test_vault_credentials_from_a_token_file_or_kubernetes_auth() -> None:
    without_approle = {**PRODUCTION, "MFA_VAULT_ROLE_ID": "", "MFA_VAULT_SECRET_ID": ""}
    from_file = Settings.from_environment(
        {**without_approle, "MFA_VAULT_TOKEN_FILE": "/run/vault/token"}
    ).vault
    assert from_file is not None
    assert from_file.token_file == Path("/run/vault/token")
    kubernetes = Settings.from_environment(
        {**without_approle, "MFA_VAULT_K8S_ROLE": "mfa-service", "MFA_VAULT_K8S_MOUNT": "k8s-prod"}
    ).vault
    assert kubernetes is not None
    assert (kubernetes.k8s_role, kubernetes.k8s_mount) == ("mfa-service", "k8s-prod")
    assert kubernetes.k8s_token_file == Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


def test_vault_secrets_never_print() -> None:
    webhook = {
        "MFA_NOTIFIER": "webhook",
        "MFA_NOTIFY_WEBHOOK_URL": "https://msg.internal/mfa",
        "MFA_NOTIFY_WEBHOOK_KEY": "k3y-value",
    }
    settings = Settings.from_environment({**PRODUCTION, **webhook})
    assert "s3cr3t-id" not in repr(settings)
    assert "k3y-value" not in repr(settings)


def test_database_pool_is_sized_by_settings_within_bounds() -> None:
    settings = Settings.from_environment(
        {"MFA_DB_POOL_SIZE": "20", "MFA_DB_MAX_OVERFLOW": "0", "MFA_DB_POOL_TIMEOUT_SECONDS": "0.5"}
    )
    assert (settings.db_pool_size, settings.db_max_overflow) == (20, 0)
    assert settings.db_pool_timeout_seconds == 0.5
    with pytest.raises(SettingsError) as refused:
        Settings.from_environment({"MFA_DB_POOL_SIZE": "0", "MFA_DB_POOL_TIMEOUT_SECONDS": "60"})
    assert "MFA_DB_POOL_SIZE" in str(refused.value)
    assert "MFA_DB_POOL_TIMEOUT_SECONDS" in str(refused.value)


def test_the_development_profile_has_an_admin_scope_and_a_pseudonym_key_under_its_data(
    tmp_path: Path,
) -> None:
    settings = Settings.from_environment({"MFA_DATA_DIR": str(tmp_path)})
    assert settings.admin_scope == "mfa-admin"
    assert settings.pseudonym_key is None
    assert settings.pseudonym_key_path == tmp_path / "pseudonym-hmac.secret"


@pytest.mark.parametrize(("value", "enabled"), [("true", True), ("1", True), ("off", False)])
def test_the_reference_page_is_switched_by_mfa_ui_enabled(value: str, enabled: bool) -> None:
    assert Settings.from_environment({"MFA_UI_ENABLED": value}).ui_enabled is enabled
    assert Settings.from_environment({}).ui_enabled is False


def test_an_unknown_mfa_ui_enabled_value_is_refused() -> None:
    with pytest.raises(SettingsError, match="MFA_UI_ENABLED"):
        Settings.from_environment({"MFA_UI_ENABLED": "maybe"})
