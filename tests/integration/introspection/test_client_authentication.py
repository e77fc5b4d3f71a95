"""The service authenticates to the introspection endpoint as its client, by the configured method
(RFC 6749 §2.3.1, RFC 7523 §2.2), through authlib; refused credentials are a dependency failure,
never a customer's 401."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

from adapters.introspection.client import ClientPrivateKey, ClientSecret
from adapters.introspection.client_key import load_client_key
from application.errors import DependencyUnavailable
from tests.integration.introspection.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    answer_claims,
    introspection_verifier,
)
from tests.support.introspection_server import IntrospectionServer
from tests.support.tls_certificates import issue_loopback_certificates


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_a_client_secret_authenticates_by_the_configured_method(method: str) -> None:
    server = IntrospectionServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, method=method)
    with server.running():
        token = server.issue(answer_claims("alice"))
        credentials = ClientSecret(CLIENT_ID, CLIENT_SECRET, method)  # type: ignore[arg-type]
        async with introspection_verifier(server.url, credentials) as verifier:
            principal = await verifier.verify(token)

    assert principal.subject == "alice"
    assert (server.requests, server.refused_clients) == (1, 0)
    assert server.token_type_hints == ["access_token"]


def _key_files(tmp_path: Path) -> dict[str, tuple[Path, Key]]:
    rsa = RSAKey.generate_key(2048, auto_kid=True)
    ec = ECKey.generate_key("P-256", auto_kid=True)
    ed = OKPKey.generate_key("Ed25519", auto_kid=True)
    (tmp_path / "rsa.pem").write_bytes(rsa.as_pem(private=True))
    (tmp_path / "ec.json").write_text(json.dumps(ec.as_dict(private=True)))
    (tmp_path / "ed.pem").write_bytes(ed.as_pem(private=True))
    return {
        "RSA PEM": (tmp_path / "rsa.pem", rsa),
        "EC JWK": (tmp_path / "ec.json", ec),
        "Ed25519 PEM": (tmp_path / "ed.pem", ed),
    }


@pytest.mark.parametrize("kind", ["RSA PEM", "EC JWK", "Ed25519 PEM"])
async def test_private_key_jwt_signs_a_fresh_assertion_for_every_request(
    tmp_path: Path, kind: str
) -> None:
    path, key = _key_files(tmp_path)[kind]
    public = key.__class__.import_key(key.as_dict(private=False))
    server = IntrospectionServer(
        client_id=CLIENT_ID, client_public_key=public, method="private_key_jwt"
    )
    private, algorithm = load_client_key(path)
    with server.running():
        first, second = server.issue(answer_claims("alice")), server.issue(answer_claims("bob"))
        credentials = ClientPrivateKey(CLIENT_ID, private, algorithm)
        async with introspection_verifier(server.url, credentials) as verifier:
            subjects = [(await verifier.verify(token)).subject for token in (first, second)]

    # The server refuses a replayed jti: two answers prove two assertions.
    assert subjects == ["alice", "bob"]
    assert (server.requests, server.refused_clients) == (2, 0)


def test_a_file_without_a_private_key_is_refused_without_quoting_it(tmp_path: Path) -> None:
    public = tmp_path / "public.json"
    key = ECKey.generate_key("P-256")
    public.write_text(json.dumps(key.as_dict(private=False)))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key, and a secret-looking line")

    for path in (public, garbage):
        with pytest.raises(ValueError, match="does not hold a private") as raised:
            load_client_key(path)
        assert "secret-looking" not in str(raised.value)


@pytest.mark.parametrize(
    ("alg", "message"),
    [("HS256", "'alg' must be one of"), ("none", "'alg' must be one of"), ("ES256", "cannot sign")],
)
def test_a_key_whose_alg_it_cannot_sign_with_is_refused_at_start_up(
    tmp_path: Path, alg: str, message: str
) -> None:
    path = tmp_path / "rsa.json"
    document = RSAKey.generate_key(2048).as_dict(private=True)
    path.write_text(json.dumps({**document, "alg": alg}))

    with pytest.raises(ValueError, match=message):
        load_client_key(path)


async def test_refused_client_credentials_are_a_dependency_failure_and_an_error_log(
    idp: IntrospectionServer, caplog: pytest.LogCaptureFixture
) -> None:
    token = idp.issue(answer_claims("alice"))
    caplog.set_level(logging.WARNING)

    async with introspection_verifier(
        idp.url, ClientSecret(CLIENT_ID, "not-the-secret-zq81")
    ) as verifier:
        with pytest.raises(DependencyUnavailable):
            await verifier.verify(token)

    assert idp.refused_clients == 1
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert any("client credentials" in record.getMessage() for record in errors)
    assert token not in caplog.text
    assert "not-the-secret-zq81" not in caplog.text


async def test_https_trusts_the_configured_ca_and_fails_closed_without_it(
    tmp_path: Path,
) -> None:
    certificates = issue_loopback_certificates(tmp_path)
    server = IntrospectionServer(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, tls=certificates.server_context()
    )
    with server.running():
        token = server.issue(answer_claims("alice"))
        assert server.url.startswith("https://")
        async with introspection_verifier(server.url, ca_cert=certificates.ca_cert) as trusting:
            assert (await trusting.verify(token)).subject == "alice"
        async with introspection_verifier(server.url) as untrusting:
            with pytest.raises(DependencyUnavailable):
                await untrusting.verify(token)

    assert server.requests == 1
