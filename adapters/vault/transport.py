"""The HTTP exchange with Vault: one pooled ``httpx.AsyncClient`` per process, and the seam where
httpx's exceptions become application errors (through ``adapters.vault.errors``)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpcore
import httpx
import msgspec

from adapters.vault.asyncio_network import AsyncioBackend
from adapters.vault.connection_pool import ExclusiveConnectionPool
from adapters.vault.errors import transport_failure
from adapters.vault.settings import VaultSettings

DEFAULT_MAX_CONNECTIONS: Final = 4
"""Requests to Vault in flight at once per process; more callers queue for a turn (bounded by the
client's deadline). Few connections cost less CPU per call under load than many (the bench's
figures in README), and four keep up with thousands of calls per second on a LAN."""

_JSON: Final = (b"Content-Type", b"application/json")


@dataclass(frozen=True, slots=True)
class VaultAnswer:
    """Vault's status and its body when that is a JSON object (None otherwise: empty, not JSON)."""

    status: int
    body: Mapping[str, Any] | None


class VaultTransport:
    """Sends requests to ``ADDR/v1/PATH`` over httpx's HTTP/1.1 transport, on kept-alive
    connections each request has to itself (``connection_pool``) and plain asyncio streams
    (``asyncio_network``: a request in one write, no anyio layer), at most ``max_connections`` at
    once. It never follows a redirect (the token stays with Vault), never
    retries, and reads nothing from the environment (no proxy, no ``VAULT_*``): the settings are
    the only configuration. ``transport`` replaces the network (tests pass an
    ``httpx.MockTransport``).

    It calls the transport without ``httpx.AsyncClient``: the client's per-request work (merging
    URLs and headers, cookies, auth and redirect hooks) is none of this service's needs and cost
    about a third of the CPU of a call.
    """

    def __init__(
        self,
        settings: VaultSettings,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._base = f"{settings.addr.rstrip('/')}/v1/"
        self._headers = [(b"X-Vault-Request", b"true")]
        if settings.namespace:
            self._headers.append((b"X-Vault-Namespace", settings.namespace.encode()))
        self._timeout = dict.fromkeys(("connect", "read", "write", "pool"), settings.timeout)
        self._transport = transport or _pooled(settings, max_connections)
        self._turns = asyncio.Semaphore(max_connections)
        self._urls: dict[str, httpx.URL] = {}

    async def send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> VaultAnswer:
        """Vault's answer to one request, whatever its status.

        Raises:
            DependencyUnavailable: no answer: unreachable, TLS refused, timed out, connection broken.
        """
        headers = list(self._headers)
        if token:
            headers.append((b"X-Vault-Token", token.encode()))
        content = b""
        if body is not None:
            headers.append(_JSON)
            content = msgspec.json.encode(body)
        request = httpx.Request(
            method,
            self._url(path),
            headers=headers,
            content=content if body is not None else None,
            extensions={"timeout": self._timeout},
        )
        async with self._turns:
            try:
                response = await self._transport.handle_async_request(request)
                try:
                    payload = await response.aread()
                finally:
                    await response.aclose()
            except (httpx.HTTPError, OSError) as error:
                raise transport_failure(error, operation=operation) from None
        return VaultAnswer(response.status_code, _json_object(payload))

    async def aclose(self) -> None:
        """Closes the pooled connections."""
        await self._transport.aclose()

    def _url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            url = httpx.URL(self._base + path)
            if len(self._urls) < 64:  # the paths of one key and mount, and a few more
                self._urls[path] = url
        return url


def _pooled(settings: VaultSettings, max_connections: int) -> httpx.AsyncHTTPTransport:
    """httpx's transport (its request and response mapping, its error map) over connections each
    request has to itself (``connection_pool``) on ``AsyncioBackend``: httpx takes neither a pool
    nor a network backend, so its pool is replaced."""
    pooled = httpx.AsyncHTTPTransport(trust_env=False)
    if not isinstance(getattr(pooled, "_pool", None), httpcore.AsyncConnectionPool):
        raise RuntimeError("httpx.AsyncHTTPTransport no longer keeps its pool in _pool")
    # httpx calls the pool's handle_async_request and aclose, which ExclusiveConnectionPool has
    pooled._pool = ExclusiveConnectionPool(  # type: ignore[assignment]
        ssl_context=tls_context(settings),
        max_idle=max_connections,
        keepalive_expiry=httpx.Limits().keepalive_expiry,
        network_backend=AsyncioBackend(),
    )
    return pooled


def tls_context(settings: VaultSettings) -> ssl.SSLContext:
    """The TLS settings: the configured CA file or directory only, else the system's store."""
    if settings.ca_cert is not None:
        if settings.ca_cert.is_dir():
            return ssl.create_default_context(capath=str(settings.ca_cert))
        return ssl.create_default_context(cafile=str(settings.ca_cert))
    context = ssl.create_default_context()
    if not settings.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _json_object(content: bytes) -> Mapping[str, Any] | None:
    if not content:
        return None
    try:
        decoded = msgspec.json.decode(content)
    except msgspec.DecodeError:
        return None
    return decoded if isinstance(decoded, dict) else None
