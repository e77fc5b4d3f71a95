"""MFA_TOKEN_MODE and MFA_INTROSPECTION_*: read, validated at start-up with clear messages."""

from pathlib import Path

import pytest

from entrypoints.settings import (
    IntrospectionAuthMethod,
    IntrospectionConfig,
    Settings,
    SettingsError,
    TokenMode,
)
from tests.unit.test_settings import PRODUCTION

INTROSPECTION = {
    "MFA_TOKEN_MODE": "introspection",
    "MFA_INTROSPECTION_URL": "https://idp.bank.example/oauth2/introspect",
    "MFA_INTROSPECTION_CLIENT_ID": "mfa-service",
    "MFA_INTROSPECTION_CLIENT_SECRET": "s3cr3t-client",
}
PRODUCTION_INTROSPECTION = {
    **{name: value for name, value in PRODUCTION.items() if name != "MFA_JWKS_URL"},
    **INTROSPECTION,
}


def test_jwt_is_the_default_mode() -> None:
    settings = Settings.from_environment({})
    assert settings.token_mode is TokenMode.JWT
    assert settings.introspection is None


def test_production_in_introspection_mode_needs_no_jwks() -> None:
    settings = Settings.from_environment(PRODUCTION_INTROSPECTION)

    assert settings.token_mode is TokenMode.INTROSPECTION
    assert settings.introspection == IntrospectionConfig(
        url="https://idp.bank.example/oauth2/introspect",
        client_id="mfa-service",
        client_secret="s3cr3t-client",
        auth_method=IntrospectionAuthMethod.CLIENT_SECRET_BASIC,
        timeout_seconds=1.5,
        cache_seconds=60,
    )


def test_production_in_both_modes_needs_the_jwks_too() -> None:
    with pytest.raises(SettingsError, match="MFA_JWKS_URL or MFA_JWKS_FILE"):
        Settings.from_environment({**PRODUCTION_INTROSPECTION, "MFA_TOKEN_MODE": "both"})
    settings = Settings.from_environment({**PRODUCTION, **INTROSPECTION, "MFA_TOKEN_MODE": "both"})
    assert settings.token_mode is TokenMode.BOTH


def test_the_client_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "client-secret"
    secret_file.write_text("from-a-file\n")
    environment = {
        **{k: v for k, v in INTROSPECTION.items() if k != "MFA_INTROSPECTION_CLIENT_SECRET"},
        "MFA_INTROSPECTION_CLIENT_SECRET_FILE": str(secret_file),
    }

    introspection = Settings.from_environment(environment).introspection

    assert introspection is not None
    assert introspection.client_secret == "from-a-file"


def test_a_private_key_file_chooses_private_key_jwt() -> None:
    environment = {
        **{k: v for k, v in INTROSPECTION.items() if k != "MFA_INTROSPECTION_CLIENT_SECRET"},
        "MFA_INTROSPECTION_PRIVATE_KEY_FILE": "/etc/mfa/client-key.pem",
    }

    introspection = Settings.from_environment(environment).introspection

    assert introspection is not None
    assert introspection.auth_method is IntrospectionAuthMethod.PRIVATE_KEY_JWT
    assert introspection.private_key_file == Path("/etc/mfa/client-key.pem")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"MFA_TOKEN_MODE": "opaque"}, "MFA_TOKEN_MODE has an unknown value"),
        ({"MFA_INTROSPECTION_URL": ""}, "MFA_TOKEN_MODE=introspection needs MFA_INTROSPECTION_URL"),
        ({"MFA_TOKEN_MODE": "jwt"}, "MFA_INTROSPECTION_URL is set but MFA_TOKEN_MODE is jwt"),
        ({"MFA_INTROSPECTION_URL": "http://idp.bank.example/introspect"}, "must use https"),
        ({"MFA_INTROSPECTION_CLIENT_ID": ""}, "needs MFA_INTROSPECTION_CLIENT_ID"),
        (
            {"MFA_INTROSPECTION_CLIENT_SECRET": ""},
            "client_secret_basic needs MFA_INTROSPECTION_CLIENT_SECRET or "
            "MFA_INTROSPECTION_CLIENT_SECRET_FILE",
        ),
        (
            {"MFA_INTROSPECTION_CLIENT_SECRET_FILE": "/nonexistent/secret"},
            "set MFA_INTROSPECTION_CLIENT_SECRET or MFA_INTROSPECTION_CLIENT_SECRET_FILE, not both",
        ),
        (
            {"MFA_INTROSPECTION_CLIENT_SECRET": "", "MFA_INTROSPECTION_CLIENT_SECRET_FILE": "/no"},
            "MFA_INTROSPECTION_CLIENT_SECRET_FILE /no cannot be read: No such file or directory",
        ),
        (
            {"MFA_INTROSPECTION_AUTH_METHOD": "private_key_jwt"},
            "private_key_jwt needs MFA_INTROSPECTION_PRIVATE_KEY_FILE",
        ),
        (
            {"MFA_INTROSPECTION_PRIVATE_KEY_FILE": "/etc/mfa/key.pem"},
            "private_key_jwt signs with a key: unset MFA_INTROSPECTION_CLIENT_SECRET",
        ),
        (
            {
                "MFA_INTROSPECTION_AUTH_METHOD": "client_secret_post",
                "MFA_INTROSPECTION_PRIVATE_KEY_FILE": "/etc/mfa/key.pem",
            },
            "set MFA_INTROSPECTION_AUTH_METHOD=private_key_jwt",
        ),
        ({"MFA_INTROSPECTION_AUTH_METHOD": "tls_client_auth"}, "AUTH_METHOD has an unknown"),
        ({"MFA_INTROSPECTION_TIMEOUT": "30"}, "MFA_INTROSPECTION_TIMEOUT must be between"),
        ({"MFA_INTROSPECTION_CACHE_SECONDS": "3600"}, "CACHE_SECONDS must be between 0 and 600"),
    ],
)
def test_introspection_settings_are_checked(change: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_environment({**PRODUCTION_INTROSPECTION, **change})
    assert message in str(raised.value)


def test_plain_http_is_allowed_on_loopback_only() -> None:
    settings = Settings.from_environment(
        {**INTROSPECTION, "MFA_INTROSPECTION_URL": "http://127.0.0.1:9000/introspect"}
    )
    assert settings.introspection is not None


def test_the_client_secret_never_prints() -> None:
    settings = Settings.from_environment(INTROSPECTION)
    assert "s3cr3t-client" not in repr(settings)
