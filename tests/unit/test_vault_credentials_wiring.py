"""The composition root gives the Vault client the credentials the settings name."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.vault.settings import (
    AppRoleAuth,
    Credentials,
    KubernetesAuth,
    TokenAuth,
    TokenFileAuth,
)
from entrypoints.composition.adapters import vault_settings
from entrypoints.settings import Settings

VAULT = {"MFA_CIPHER": "vault", "MFA_VAULT_ADDR": "https://vault.internal:8200"}


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"MFA_VAULT_TOKEN": "s.token"}, TokenAuth("s.token")),
        ({"MFA_VAULT_TOKEN_FILE": "/run/vault/token"}, TokenFileAuth(Path("/run/vault/token"))),
        (
            {"MFA_VAULT_ROLE_ID": "role", "MFA_VAULT_SECRET_ID": "secret"},
            AppRoleAuth("role", "secret"),
        ),
        (
            {"MFA_VAULT_K8S_ROLE": "mfa-service"},
            KubernetesAuth(
                "mfa-service", Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
            ),
        ),
        (
            {
                "MFA_VAULT_K8S_ROLE": "mfa-service",
                "MFA_VAULT_K8S_TOKEN_FILE": "/var/run/secrets/vault/token",
                "MFA_VAULT_K8S_MOUNT": "k8s-prod",
            },
            KubernetesAuth("mfa-service", Path("/var/run/secrets/vault/token"), "k8s-prod"),
        ),
    ],
)
def test_each_kind_of_credentials_reaches_the_client(
    environment: dict[str, str], expected: Credentials
) -> None:
    settings = Settings.from_environment({**VAULT, **environment})
    assert vault_settings(settings).auth == expected
