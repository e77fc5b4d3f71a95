"""The test identity provider's token introspection endpoint (RFC 7662) on a free loopback port.

    with IntrospectionServer(client_id="mfa-service", client_secret="s3cret").running() as idp:
        token = idp.issue({"sub": "alice", "iss": ..., "aud": ..., "exp": ...})
        ...  # POST idp.url with token=<token> and the client's credentials

It authenticates the caller as one registered client, by the one method registered for it (RFC 7591
``token_endpoint_auth_method``): ``client_secret_basic`` or ``client_secret_post`` (RFC 6749 §2.3.1)
or ``private_key_jwt`` (RFC 7523 §3: ``iss`` = ``sub`` = client id, ``aud`` = this endpoint's URL,
``exp`` in the future, a ``jti`` never seen before, signed by the client's registered key). A caller
that fails is answered 401 ``invalid_client``. An authenticated caller learns ``{"active": true, ...
claims}`` for a token this server issued and has not revoked, ``{"active": false}`` for any other.

Tokens are opaque: random strings that mean nothing outside this server. ``fault`` replaces every
answer (status, content type, body) for the fault tests; ``requests`` counts the introspections.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Final
from urllib.parse import parse_qs, unquote_plus

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key

from tests.support.loopback_server import LoopbackServer, QuietHandler

PATH: Final = "/introspect"
ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_REQUEST_BYTES: Final = 64 * 1024
ASSERTION_ALGORITHMS: Final = ["RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"]


@dataclass(frozen=True)
class Fault:
    """An answer given instead of the real one."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"


class IntrospectionServer:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str | None = None,
        client_public_key: Key | None = None,
        method: str = "client_secret_basic",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """One registered client: ``client_secret`` for the two secret methods, or
        ``client_public_key`` for ``private_key_jwt``. With ``tls``, HTTPS."""
        if (method == "private_key_jwt") != (client_public_key is not None):
            raise ValueError("private_key_jwt needs client_public_key, the others client_secret")
        self.client_id = client_id
        self.method = method
        self._secret = client_secret
        self._public_key = client_public_key
        self._lock = threading.Lock()
        self._tokens: dict[str, dict[str, Any]] = {}
        self._seen_jti: set[str] = set()
        self.fault: Fault | None = None
        self.requests = 0
        self.refused_clients = 0
        self.token_type_hints: list[str | None] = []
        self.aliases: list[str] = []
        """Other URLs of this endpoint (through a proxy) that an assertion's ``aud`` may name."""
        server = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the client's pool reuses connections

            def do_POST(self) -> None:
                server._handle(self)

        self._server = LoopbackServer(Handler, tls=tls)

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        return f"{self._server.origin}{PATH}"

    def issue(self, claims: Mapping[str, Any], token: str | None = None) -> str:
        """A new opaque token (or ``token``) that this server will say is active with ``claims``."""
        token = token or secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = dict(claims)
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    @contextmanager
    def running(self) -> Iterator[IntrospectionServer]:
        with self._server.running():
            yield self

    # --- one request ---------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        if request.path != PATH or not 0 < length <= MAX_REQUEST_BYTES:
            request.close_connection = True  # the body was not read: the stream is out of step
            _send(request, 400, {"error": "invalid_request"})
            return
        form = _form(request.rfile.read(length))
        if form is None or not form.get("token"):
            _send(request, 400, {"error": "invalid_request"})
            return
        if not self._authenticated(request.headers.get("Authorization"), form):
            with self._lock:
                self.refused_clients += 1
            _send(request, 401, {"error": "invalid_client"}, {"WWW-Authenticate": "Basic"})
            return
        with self._lock:
            self.requests += 1
            self.token_type_hints.append(form.get("token_type_hint"))
            fault = self.fault
            claims = self._tokens.get(form["token"])
        if fault is not None:
            _send_raw(request, fault.status, fault.content_type, fault.body)
        elif claims is None:
            _send(request, 200, {"active": False})
        else:
            _send(request, 200, {**claims, "active": True})

    def _authenticated(self, authorization: str | None, form: dict[str, str]) -> bool:
        if self.method == "client_secret_basic":
            return authorization is not None and self._basic(authorization)
        if authorization is not None:
            return False
        if self.method == "client_secret_post":
            return form.get("client_id") == self.client_id and self._secret_matches(
                form.get("client_secret")
            )
        return (
            form.get("client_assertion_type") == ASSERTION_TYPE
            and self._assertion_valid(form.get("client_assertion"))
            and form.get("client_id") in (None, self.client_id)
        )

    def _basic(self, authorization: str) -> bool:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, colon, secret = decoded.partition(":")
        # RFC 6749 §2.3.1: both are form-urlencoded before they are joined.
        return bool(colon) and (
            unquote_plus(client_id) == self.client_id and self._secret_matches(unquote_plus(secret))
        )

    def _secret_matches(self, secret: str | None) -> bool:
        return (
            secret is not None
            and self._secret is not None
            and hmac.compare_digest(secret.encode(), self._secret.encode())
        )

    def _assertion_valid(self, assertion: str | None) -> bool:
        if not assertion or self._public_key is None:
            return False
        try:
            claims = jwt.decode(assertion, self._public_key, algorithms=ASSERTION_ALGORITHMS).claims
        except (JoseError, ValueError):
            return False
        now = time.time()
        jti = claims.get("jti")
        exp = claims.get("exp")
        with self._lock:
            fresh = isinstance(jti, str) and jti not in self._seen_jti
            if fresh:
                self._seen_jti.add(str(jti))
        return (
            fresh
            and claims.get("iss") == self.client_id
            and claims.get("sub") == self.client_id
            and claims.get("aud") in (self.url, *self.aliases)
            and isinstance(exp, int)
            and now < exp <= now + 3600
        )


def _form(body: bytes) -> dict[str, str] | None:
    try:
        fields = parse_qs(body.decode("ascii"), strict_parsing=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return None
    if any(len(values) != 1 for values in fields.values()):
        return None
    return {name: values[0] for name, values in fields.items()}


def _send(
    request: BaseHTTPRequestHandler,
    status: int,
    document: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
) -> None:
    _send_raw(request, status, "application/json", json.dumps(document).encode(), headers)


def _send_raw(
    request: BaseHTTPRequestHandler,
    status: int,
    content_type: str,
    body: bytes,
    headers: Mapping[str, str] | None = None,
) -> None:
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(body)))
    request.send_header("Cache-Control", "no-store")
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(body)
