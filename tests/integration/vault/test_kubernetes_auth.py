"""Kubernetes auth: the service logs in with its pod's service-account token, against OpenBao's real
kubernetes auth method, which asks a Kubernetes API server (the suite's fake, over TLS) to review
the token."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.vault.settings import KubernetesAuth
from adapters.vault.setup import service_policy
from application.errors import DependencyUnavailable
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret
from tests.integration.vault.helpers import CipherFactory, ClientFactory
from tests.support.fake_kubernetes import FakeKubernetes
from tests.support.vault_server import VaultServer

SECRET = TotpSecret.from_entropy(os.urandom(20))
NAMESPACE, SERVICE_ACCOUNT = "mfa", "mfa-service"


@pytest.fixture
def kubernetes() -> Iterator[FakeKubernetes]:
    with FakeKubernetes() as api_server:
        yield api_server


@pytest.fixture
def kubernetes_auth(
    vault: VaultServer, transit_key: str, kubernetes: FakeKubernetes, tmp_path: Path
) -> KubernetesAuth:
    """A kubernetes auth mount of its own that trusts ``kubernetes``, a role bound to the service
    account and holding the service policy for ``transit_key``, and the pod's token in its
    ``token_file``."""
    root = vault.client()
    mount = f"kubernetes-{uuid.uuid4().hex[:8]}"
    root.sys.enable_auth_method("kubernetes", path=mount)
    root.write_data(
        f"auth/{mount}/config",
        data={
            "kubernetes_host": kubernetes.url,
            "kubernetes_ca_cert": kubernetes.ca_pem,
            "disable_local_ca_jwt": True,
        },
    )
    root.sys.create_or_update_policy(
        name=f"service-{transit_key}", policy=service_policy(key=transit_key)
    )
    root.write_data(
        f"auth/{mount}/role/mfa-service",
        data={
            "bound_service_account_names": [SERVICE_ACCOUNT],
            "bound_service_account_namespaces": [NAMESPACE],
            "token_policies": [f"service-{transit_key}"],
            "token_ttl": "10m",
        },
    )
    token_file = tmp_path / "token"
    token_file.write_text(kubernetes.service_account_token(NAMESPACE, SERVICE_ACCOUNT))
    return KubernetesAuth("mfa-service", token_file=token_file, mount_point=mount)


async def test_kubernetes_login_gives_a_working_cipher(
    vault: VaultServer,
    transit_key: str,
    kubernetes: FakeKubernetes,
    kubernetes_auth: KubernetesAuth,
    make_cipher: CipherFactory,
) -> None:
    cipher = make_cipher(vault, transit_key, auth=kubernetes_auth)
    owner = SecretOwner("alice", uuid.uuid4())
    assert await cipher.decrypt(await cipher.encrypt(SECRET, owner), owner) == SECRET
    assert kubernetes.reviews == [kubernetes_auth.token_file.read_text()]


async def test_a_new_login_reads_the_token_kubelet_rotated(
    vault: VaultServer,
    transit_key: str,
    kubernetes: FakeKubernetes,
    kubernetes_auth: KubernetesAuth,
    make_cipher: CipherFactory,
) -> None:
    auth, token_file = kubernetes_auth, kubernetes_auth.token_file
    cipher = make_cipher(vault, transit_key, auth=auth)
    owner = SecretOwner("alice", uuid.uuid4())
    sealed = await cipher.encrypt(SECRET, owner)

    first = token_file.read_text()
    token_file.write_text(kubernetes.service_account_token(NAMESPACE, SERVICE_ACCOUNT))
    kubernetes.revoke(first)
    vault.client().sys.revoke_prefix(f"auth/{auth.mount_point}/")  # the service's Vault token too

    assert await cipher.decrypt(sealed, owner) == SECRET
    assert kubernetes.reviews[-1] == token_file.read_text()


async def test_kubernetes_login_fails_fast_for_a_token_the_api_server_does_not_know(
    vault: VaultServer,
    kubernetes: FakeKubernetes,
    kubernetes_auth: KubernetesAuth,
    make_client: ClientFactory,
) -> None:
    kubernetes.revoke(kubernetes_auth.token_file.read_text())
    with pytest.raises(DependencyUnavailable):
        await make_client(vault.addr, kubernetes_auth).login()


async def test_a_missing_service_account_token_file_is_unavailable(
    vault: VaultServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    auth = KubernetesAuth("mfa-service", token_file=tmp_path / "absent")
    with pytest.raises(DependencyUnavailable):
        await make_client(vault.addr, auth).login()
