"""A fake Kubernetes API server that answers TokenReview, the one call Vault's Kubernetes auth
method makes, for service-account tokens it issued itself.

    with FakeKubernetes() as kubernetes:
        jwt = kubernetes.service_account_token("mfa", "mfa-service")   # what kubelet would mount
        # configure Vault: kubernetes_host=kubernetes.url, kubernetes_ca_cert=kubernetes.ca_pem,
        # disable_local_ca_jwt=true
        kubernetes.reviews      # the tokens Vault asked about

It serves HTTPS with a self-signed certificate for 127.0.0.1 (:attr:`ca_pem`), as an API server does.

The tokens are ES256 JWTs with the claims of a projected service-account token; a review says
``authenticated`` only for a token this server issued and did not revoke.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import ECKey

from tests.support.loopback_server import LoopbackServer, QuietHandler

REVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"


class FakeKubernetes:
    """Listens on a free loopback port in a daemon thread; stop() (or the context manager) ends it."""

    def __init__(self) -> None:
        self._key = ECKey.generate_key("P-256")
        self._issued: dict[str, dict[str, Any]] = {}
        self._revoked: set[str] = set()
        self.reviews: list[str] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                review = json.loads(self.rfile.read(length) or b"{}")
                if self.path != REVIEW_PATH:
                    self.send_json(404, {"kind": "Status", "status": "Failure", "code": 404})
                    return
                self.send_json(201, fake._review(review))

        self.ca_pem, tls = _self_signed_tls()
        self._server = LoopbackServer(Handler, tls=tls)

    @property
    def url(self) -> str:
        return self._server.origin

    def start(self) -> FakeKubernetes:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeKubernetes:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def service_account_token(self, namespace: str, name: str) -> str:
        """A projected service-account token for ``namespace``/``name``, valid for an hour."""
        now = int(time.time())
        user = {"username": f"system:serviceaccount:{namespace}:{name}", "uid": str(uuid.uuid4())}
        claims = {
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": user["username"],
            "aud": ["vault"],
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": name, "uid": user["uid"]},
            },
        }
        token = jwt.encode({"alg": "ES256", "kid": "fake"}, claims, self._key)
        with self._lock:
            self._issued[token] = user
        return token

    def revoke(self, token: str) -> None:
        """From now on reviews of ``token`` answer not authenticated."""
        with self._lock:
            self._revoked.add(token)

    def _review(self, review: dict[str, Any]) -> dict[str, Any]:
        token = str(review.get("spec", {}).get("token", ""))
        with self._lock:
            self.reviews.append(token)
            user = self._issued.get(token) if token not in self._revoked else None
        status: dict[str, Any] = {"authenticated": False, "error": "token not recognised"}
        if user is not None:
            audiences = review.get("spec", {}).get("audiences") or ["vault"]
            status = {
                "authenticated": True,
                "user": {**user, "groups": ["system:serviceaccounts"]},
                "audiences": audiences,
            }
        return {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": review.get("spec", {}),
            "status": status,
        }


def _self_signed_tls() -> tuple[str, ssl.SSLContext]:
    """A certificate for 127.0.0.1 signed by its own key: its PEM, and a server context using it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-kubernetes")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:  # load_cert_chain reads files only
        chain = Path(folder) / "chain.pem"
        chain.write_bytes(certificate_pem + key_pem)
        context.load_cert_chain(chain)
    return certificate_pem.decode(), context
