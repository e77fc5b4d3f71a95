"""The soak's identity provider: ES256 keys, their public JWKS served over HTTP on loopback (the
service reads ``MFA_JWKS_URL``), and a rotation: a new signing key is published and used for new
tokens while the old one stays in the key set until the tokens it signed have expired."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from bench.stack import TOKEN_AUDIENCE, TOKEN_ISSUER

TOKEN_TTL_SECONDS: Final = 60
"""Short, so that tokens signed with a retired key expire within a short soak."""


def _new_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"}, auto_kid=True)


class IdentityProvider:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._signing = _new_key()
        self._published: list[tuple[ECKey, float]] = [(self._signing, float("inf"))]
        self.rotations = 0

    def jwks(self) -> bytes:
        now = time.time()
        with self._lock:
            self._published = [(key, until) for key, until in self._published if until > now]
            keys: list[Any] = [key for key, _ in self._published]
        return json.dumps(KeySet(keys).as_dict(private=False)).encode()

    def rotate(self) -> None:
        """Signs with a new key from now on; the old key is published until its last token expires."""
        with self._lock:
            retired = self._signing
            self._signing = _new_key()
            until = time.time() + TOKEN_TTL_SECONDS + 5
            self._published = [
                (key, until if key is retired else kept) for key, kept in self._published
            ]
            self._published.append((self._signing, float("inf")))
            self.rotations += 1

    def mint(self, subject: str) -> tuple[str, float]:
        """A token after a sign-in with a second factor (so step-up passes); and when it expires."""
        now = int(time.time())
        with self._lock:
            key = self._signing
        claims: dict[str, Any] = {
            "iss": TOKEN_ISSUER,
            "aud": TOKEN_AUDIENCE,
            "sub": subject,
            "iat": now,
            "nbf": now - 5,
            "exp": now + TOKEN_TTL_SECONDS,
            "auth_time": now,
            "amr": ["pwd", "otp"],
            "jti": secrets.token_urlsafe(12),
            "preferred_username": f"{subject}@soak.invalid",
        }
        header = {"alg": "ES256", "kid": str(key.kid), "typ": "JWT"}
        return jwt.encode(header, claims, key, algorithms=["ES256"]), float(claims["exp"])


@contextmanager
def serving(idp: IdentityProvider) -> Iterator[str]:
    """Serves ``idp``'s JWKS on a free loopback port; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = idp.jwks()
            self.send_response(200)
            self.send_header("Content-Type", "application/jwk-set+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="soak-jwks", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()
