"""Connecting to Vault: one hvac client with explicit TLS and timeout settings, kept authenticated.

Kubernetes authentication is not implemented; it would plug in as a third kind of credentials next to
:class:`TokenAuth` and :class:`AppRoleAuth`. Its login reads the pod's projected service-account
token afresh on every login (``/var/run/secrets/kubernetes.io/serviceaccount/token``; kubelet rotates
it) and calls ``client.auth.kubernetes.login(role=..., jwt=..., mount_point="kubernetes")``. Everything
else stays as it is: :class:`VaultSession` logs in before the first call and logs in again once when
Vault answers Forbidden because the token expired.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar

import hvac
from hvac.exceptions import Forbidden

from adapters.vault.transport import Urllib3Session

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS: Final = 1.5
"""How long one HTTP exchange with Vault may take (connect, then each read), instead of hvac's 30 s."""


@dataclass(frozen=True, slots=True)
class TokenAuth:
    """A token obtained elsewhere (Vault agent sidecar, operator). It is used as is, never renewed."""

    token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class AppRoleAuth:
    """AppRole credentials: the service logs in with them and again whenever its token stops working."""

    role_id: str
    secret_id: str = field(repr=False)
    mount_point: str = "approle"


@dataclass(frozen=True, slots=True)
class VaultSettings:
    """Where Vault is and how to talk to it.

    ``timeout`` bounds each HTTP exchange in seconds. ``ca_cert`` (a PEM bundle, or a directory of
    certificates prepared with ``openssl rehash``) takes precedence over
    ``tls_verify``, which trusts the system's store; ``tls_verify=False`` is for local experiments
    only. ``namespace`` is sent as ``X-Vault-Namespace`` (Vault Enterprise and OpenBao namespaces).
    """

    addr: str
    auth: TokenAuth | AppRoleAuth
    namespace: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    tls_verify: bool = True
    ca_cert: Path | None = None

    def __post_init__(self) -> None:
        if not self.addr.startswith(("https://", "http://")):
            raise ValueError("the Vault address must be an http:// or https:// URL")
        if not self.timeout > 0:
            raise ValueError("the Vault timeout must be a positive number of seconds")


def build_hvac_client(settings: VaultSettings) -> hvac.Client:
    """An hvac client configured from ``settings`` only, holding the static token if any.

    The token, address and TLS settings come from ``settings`` only: hvac would otherwise pick up
    ``VAULT_TOKEN``, ``~/.vault-token``, ``VAULT_CACERT`` and ``VAULT_CLIENT_CERT``, and the HTTP
    session (:class:`Urllib3Session`) reads no proxy variables. Redirects are not followed, so the
    token header never travels to another host. No network call is made here.
    """
    verify: bool | Path = settings.ca_cert if settings.ca_cert is not None else settings.tls_verify
    token = settings.auth.token if isinstance(settings.auth, TokenAuth) else ""
    return hvac.Client(
        url=settings.addr,
        token=token,
        verify=str(verify) if isinstance(verify, Path) else verify,
        timeout=settings.timeout,
        namespace=settings.namespace,
        session=Urllib3Session(verify=verify),
        allow_redirects=False,
    )


class VaultSession:
    """An hvac client that stays authenticated; shared by worker threads.

    With :class:`AppRoleAuth` it logs in before the first call, and when a call is answered Forbidden
    (the token expired or was revoked) it logs in again once and repeats the call. Concurrent callers
    that hit the same expired token cause a single login. With :class:`TokenAuth` Forbidden is final.
    All methods block: run them in a worker thread (see ``VaultGateway``).
    """

    def __init__(self, settings: VaultSettings, client: hvac.Client | None = None) -> None:
        self._settings = settings
        self._client = client if client is not None else build_hvac_client(settings)
        self._lock = threading.Lock()
        self._logins = 0

    @property
    def timeout(self) -> float:
        """The per-exchange HTTP timeout in seconds."""
        return self._settings.timeout

    def login(self) -> None:
        """Logs in now with the AppRole credentials; does nothing for a static token.

        Raises:
            hvac.exceptions.VaultError, requests.RequestException: Vault refused or did not answer.
        """
        with self._lock:
            self._login_locked()

    def run(self, request: Callable[[hvac.Client], T]) -> T:
        """``request(client)`` with a working token, retried once after a fresh login on Forbidden.

        Raises:
            Whatever ``request`` or the login raise (hvac and requests exceptions), untranslated.
        """
        logins_seen = self._ensure_logged_in()
        try:
            return request(self._client)
        except Forbidden:
            if not isinstance(self._settings.auth, AppRoleAuth):
                raise
            self._login_again(logins_seen)
            return request(self._client)

    def close(self) -> None:
        """Closes the pooled HTTP connections."""
        self._client.adapter.close()

    def _ensure_logged_in(self) -> int:
        if isinstance(self._settings.auth, AppRoleAuth) and not self._client.token:
            with self._lock:
                if not self._client.token:
                    self._login_locked()
        return self._logins

    def _login_again(self, logins_seen: int) -> None:
        with self._lock:
            if self._logins == logins_seen:  # nobody logged in since our call started
                self._login_locked()

    def _login_locked(self) -> None:
        auth = self._settings.auth
        if isinstance(auth, AppRoleAuth):
            self._client.auth.approle.login(
                role_id=auth.role_id, secret_id=auth.secret_id, mount_point=auth.mount_point
            )
            self._logins += 1
