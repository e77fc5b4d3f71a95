"""The async client takes its token from its credentials only, never from ``VAULT_TOKEN`` or
``VAULT_NAMESPACE``; a login is sent without any token, and the token it gives is used after it."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from adapters.vault.client import VaultClient
from adapters.vault.settings import AppRoleAuth, VaultSettings

LOGIN_TOKEN = "s.from-the-login"


async def test_an_approle_client_ignores_vault_variables_and_uses_its_login_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "s.from-the-environment")
    monkeypatch.setenv("VAULT_NAMESPACE", "elsewhere")
    seen: list[httpx.Request] = []

    def vault(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/auth/approle/login":
            auth = {"client_token": LOGIN_TOKEN, "lease_duration": 0, "renewable": False}
            return httpx.Response(200, json={"auth": auth})
        return httpx.Response(200, json={"data": {"latest_version": 1}})

    secret_id = str(uuid.uuid4())
    client = VaultClient(
        VaultSettings("https://vault.example", AppRoleAuth("role", secret_id)),
        transport=httpx.MockTransport(vault),
    )
    try:
        await client.login()
        await client.request("read key", "GET", "transit/keys/mfa-totp")
    finally:
        await client.aclose()

    login, read = seen[0], seen[-1]
    assert json.loads(login.content) == {"role_id": "role", "secret_id": secret_id}
    assert "X-Vault-Token" not in login.headers
    assert read.headers["X-Vault-Token"] == LOGIN_TOKEN
    assert all("X-Vault-Namespace" not in request.headers for request in seen)
