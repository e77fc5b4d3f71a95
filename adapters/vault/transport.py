"""What hvac needs of a ``requests.Session``, sent with urllib3 directly.

hvac sends every request through ``session.request(...)`` and reads a ``requests.Response``. A real
Session spends about 0.3 ms of CPU per call around the HTTP exchange (preparing the request, merging
settings, runtime protocol checks), more than urllib3's whole exchange with Vault on loopback. This
session keeps hvac's contract (requests' response and exception types, so hvac's error mapping and
``adapters.vault.errors`` see what they always saw) and leaves out what the service never uses:
proxies, cookies, redirects and retries.
"""

from __future__ import annotations

import json as json_module
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from urllib3 import exceptions as urllib3_errors

POOL_SIZE: Final = 16
"""Connections kept per Vault host: one per gateway worker thread (its default concurrency)."""


class Urllib3Session:
    """Sends hvac's requests; never follows a redirect, never retries, reads no proxy variables.

    ``verify``: True checks the server against OpenSSL's default trust store (the system's, unless
    ``SSL_CERT_FILE``/``SSL_CERT_DIR`` point elsewhere), a path against that PEM bundle or directory
    of certificates only; False turns verification off (local experiments only). The TLS, proxy and
    redirect arguments hvac passes with each request are ignored: these settings are the only ones,
    so nothing hvac reads from its environment (``VAULT_CACERT``, ``VAULT_CLIENT_CERT``) applies.
    """

    def __init__(self, *, verify: bool | Path = True) -> None:
        # hvac's Adapter reads these three when given a session.
        self.verify: bool | str = str(verify) if isinstance(verify, Path) else verify
        self.cert = None
        self.proxies: dict[str, str] = {}
        tls: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED" if verify else "CERT_NONE"}
        if isinstance(verify, Path):
            tls["ca_cert_dir" if verify.is_dir() else "ca_certs"] = str(verify)
        self._pool = urllib3.PoolManager(maxsize=POOL_SIZE, retries=False, **tls)

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: str | bytes | None = None,
        **_ignored: Any,
    ) -> requests.Response:
        """One exchange, as ``requests.Session.request`` would answer it.

        Raises:
            requests.Timeout, requests.exceptions.SSLError, requests.ConnectionError: as requests.
        """
        sent = dict(headers or {})
        body: str | bytes | None = data
        if json is not None:
            body = json_module.dumps(json).encode("utf-8")
            sent["Content-Type"] = "application/json"
        if params:
            url = f"{url}?{urlencode(params)}"
        try:
            answer = self._pool.request(
                method.upper(),
                url,
                body=body,
                headers=sent,
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                redirect=False,
            )
        except urllib3_errors.HTTPError as error:
            raise _as_requests_error(error) from error
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason or ""
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.data
        response.encoding = "utf-8"
        response.url = url
        return response

    def close(self) -> None:
        self._pool.clear()


def _as_requests_error(error: urllib3_errors.HTTPError) -> requests.RequestException:
    if isinstance(error, urllib3_errors.NewConnectionError):  # a ConnectTimeoutError subclass
        return requests.ConnectionError(str(error))
    if isinstance(error, urllib3_errors.ConnectTimeoutError):
        return requests.ConnectTimeout(str(error))
    if isinstance(error, urllib3_errors.TimeoutError):
        return requests.ReadTimeout(str(error))
    if isinstance(error, urllib3_errors.SSLError):
        return requests.exceptions.SSLError(str(error))
    return requests.ConnectionError(str(error))
