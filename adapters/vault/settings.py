"""Where Vault is, how to talk to it, and which credentials the service logs in with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

DEFAULT_TIMEOUT_SECONDS: Final = 1.5
"""How long one HTTP exchange with Vault may take (connect, then each read), not hvac's 30 s."""

KUBERNETES_TOKEN_FILE: Final = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
"""Where kubelet mounts the pod's projected service-account token (and rotates it)."""


@dataclass(frozen=True, slots=True)
class TokenAuth:
    """A token obtained elsewhere (an operator, a deploy job). Renewed (``renew-self``) before it
    expires when Vault says it is renewable and its policies allow looking it up."""

    token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class TokenFileAuth:
    """A token in a file that something else keeps fresh (a Vault agent's sink). The file is read
    again whenever it changes and when Vault refuses the token; a renewable token is also renewed."""

    path: Path


@dataclass(frozen=True, slots=True)
class AppRoleAuth:
    """AppRole credentials: the service logs in with them, renews its token, and logs in again when
    the token can no longer be renewed or stops working."""

    role_id: str
    secret_id: str = field(repr=False)
    mount_point: str = "approle"


@dataclass(frozen=True, slots=True)
class KubernetesAuth:
    """Vault's Kubernetes auth method: the service logs in with the pod's service-account token,
    read afresh from ``token_file`` at every login (kubelet rotates it), as AppRole otherwise."""

    role: str
    token_file: Path = KUBERNETES_TOKEN_FILE
    mount_point: str = "kubernetes"


Credentials = TokenAuth | TokenFileAuth | AppRoleAuth | KubernetesAuth


@dataclass(frozen=True, slots=True)
class VaultSettings:
    """Where Vault is and how to talk to it.

    ``timeout`` bounds each HTTP exchange in seconds. ``ca_cert`` (a PEM bundle, or a directory of
    certificates prepared with ``openssl rehash``) takes precedence over ``tls_verify``, which
    trusts the system's store (OpenSSL's default paths); ``tls_verify=False`` is for local
    experiments only. ``namespace`` is sent as ``X-Vault-Namespace`` (Vault Enterprise and OpenBao
    namespaces).
    """

    addr: str
    auth: Credentials
    namespace: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    tls_verify: bool = True
    ca_cert: Path | None = None

    def __post_init__(self) -> None:
        if not self.addr.startswith(("https://", "http://")):
            raise ValueError("the Vault address must be an http:// or https:// URL")
        if not self.timeout > 0:
            raise ValueError("the Vault timeout must be a positive number of seconds")
