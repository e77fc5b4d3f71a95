"""Key sources: bounded, strict fetching and parsing of the JWKS (B1, B3)."""

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from adapters.jwt.jwks_source import (
    MAX_JWKS_BYTES,
    JwksFileSource,
    JwksUnavailable,
    JwksUrlSource,
    parse_jwks,
)
from tests.unit.adapters.jwt.support import JwksServer, public_jwks


def document(*entries: object) -> bytes:
    return json.dumps({"keys": list(entries)}).encode()


async def test_url_source_returns_the_served_public_keys(
    rsa_key: RSAKey, ec_key: ECKey, jwks_server: JwksServer, http_client: httpx.AsyncClient
) -> None:
    jwks_server.serve_keys(rsa_key, ec_key)

    keys = await JwksUrlSource(jwks_server.url, http_client).fetch()

    assert sorted(str(key.kid) for key in keys) == sorted([str(rsa_key.kid), str(ec_key.kid)])
    assert not any(key.is_private for key in keys)
    assert jwks_server.requests == 1


@pytest.mark.parametrize("status", [201, 204, 301, 304, 401, 404, 500, 503])
async def test_url_source_fails_on_any_status_but_200(
    rsa_key: RSAKey, jwks_server: JwksServer, http_client: httpx.AsyncClient, status: int
) -> None:
    jwks_server.serve_keys(rsa_key)
    jwks_server.status = status

    with pytest.raises(JwksUnavailable, match="HTTP"):
        await JwksUrlSource(jwks_server.url, http_client).fetch()


async def test_url_source_does_not_follow_redirects(
    rsa_key: RSAKey, jwks_server: JwksServer, http_client: httpx.AsyncClient
) -> None:
    target = JwksServer()
    await target.start()
    try:
        target.serve_keys(rsa_key)
        jwks_server.status = 302
        jwks_server.extra_headers = {"Location": target.url}

        with pytest.raises(JwksUnavailable):
            await JwksUrlSource(jwks_server.url, http_client).fetch()
    finally:
        await target.close()

    assert target.requests == 0


async def test_url_source_fails_when_the_connection_is_refused(
    http_client: httpx.AsyncClient,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(JwksUnavailable, match="ConnectError"):
        await JwksUrlSource(f"http://127.0.0.1:{port}/jwks", http_client).fetch()


async def test_url_source_gives_up_on_a_server_that_never_answers(
    jwks_server: JwksServer, http_client: httpx.AsyncClient
) -> None:
    jwks_server.hang = True
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(JwksUnavailable, match="timed out"):
        await JwksUrlSource(jwks_server.url, http_client, timeout_seconds=0.2).fetch()

    assert loop.time() - started < 2


async def test_url_source_refuses_a_body_over_one_mebibyte(
    rsa_key: RSAKey, jwks_server: JwksServer, http_client: httpx.AsyncClient
) -> None:
    entries = public_jwks(rsa_key)["keys"]
    jwks_server.body = json.dumps({"keys": entries, "padding": "x" * MAX_JWKS_BYTES}).encode()

    with pytest.raises(JwksUnavailable, match="too large"):
        await JwksUrlSource(jwks_server.url, http_client).fetch()


async def test_url_source_refuses_a_body_longer_than_declared_and_over_the_cap(
    jwks_server: JwksServer, http_client: httpx.AsyncClient
) -> None:
    jwks_server.body = b"x" * (MAX_JWKS_BYTES + 1)
    jwks_server.extra_headers = {"Content-Length": str(MAX_JWKS_BYTES + 1)}

    with pytest.raises(JwksUnavailable, match="too large"):
        await JwksUrlSource(jwks_server.url, http_client).fetch()


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[]", b'{"keys": {}}', b'{"keys": []}', b'{"key": []}', b"[" * 5000]
)
async def test_url_source_fails_on_a_malformed_or_empty_key_set(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, body: bytes
) -> None:
    jwks_server.body = body

    with pytest.raises(JwksUnavailable):
        await JwksUrlSource(jwks_server.url, http_client).fetch()


@pytest.mark.parametrize("url", ["/jwks", "ftp://idp.example.test/jwks", "http://", "http://[::1"])
def test_url_source_refuses_a_url_that_is_not_absolute_http(
    http_client: httpx.AsyncClient, url: str
) -> None:
    with pytest.raises(ValueError, match="URL"):
        JwksUrlSource(url, http_client)


def test_url_source_refuses_a_non_positive_timeout(http_client: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="timeout"):
        JwksUrlSource("https://idp.example.test/jwks", http_client, timeout_seconds=0)


async def test_file_source_reads_the_key_set(rsa_key: RSAKey, tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(public_jwks(rsa_key)))

    keys = await JwksFileSource(path).fetch()

    assert [key.kid for key in keys] == [rsa_key.kid]


async def test_file_source_fails_on_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(JwksUnavailable, match="unreadable"):
        await JwksFileSource(tmp_path / "absent.json").fetch()


async def test_file_source_refuses_a_file_over_one_mebibyte(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_bytes(b" " * (MAX_JWKS_BYTES + 1))

    with pytest.raises(JwksUnavailable, match="too large"):
        await JwksFileSource(path).fetch()


def test_parse_keeps_only_public_asymmetric_signing_keys(
    rsa_key: RSAKey, ec_key: ECKey, ed_key: OKPKey
) -> None:
    symmetric = OctKey.generate_key(256, auto_kid=True).as_dict(private=True)
    private = ECKey.generate_key("P-256", auto_kid=True).as_dict(private=True)
    encryption = {**ECKey.generate_key("P-256").as_dict(), "use": "enc", "kid": "enc"}
    exchange = OKPKey.generate_key("X25519", auto_kid=True).as_dict()
    public = public_jwks(rsa_key, ec_key, ed_key)["keys"]

    keys = parse_jwks(document(symmetric, private, encryption, exchange, *public))

    assert [key.kid for key in keys] == [rsa_key.kid, ec_key.kid, ed_key.kid]


@pytest.mark.filterwarnings("ignore:Key size should be")
def test_parse_skips_rsa_keys_shorter_than_2048_bits(rsa_key: RSAKey) -> None:
    weak = RSAKey.generate_key(1024, auto_kid=True).as_dict(private=False)

    keys = parse_jwks(document(weak, *public_jwks(rsa_key)["keys"]))

    assert [key.kid for key in keys] == [rsa_key.kid]


@pytest.mark.parametrize(
    "entry",
    [
        None,
        "RSA",
        ["kty", "RSA"],
        {},
        {"kty": "RSA"},
        {"kty": "RSA", "n": 1, "e": "AQAB"},
        {"kty": "RSA", "n": "!!!", "e": "AQAB"},
        {"kty": "EC", "crv": "P-999", "x": "AA", "y": "AA"},
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        {"kty": "OKP", "crv": "Ed25519", "x": "AA"},
        {"kty": "OKP", "crv": "Nope", "x": "AA"},
        {"kty": "PQ", "pub": "AA"},
        {"kty": ["RSA"]},
    ],
)
def test_parse_skips_entries_that_do_not_import(rsa_key: RSAKey, entry: Any) -> None:
    keys = parse_jwks(document(entry, *public_jwks(rsa_key)["keys"]))

    assert [key.kid for key in keys] == [rsa_key.kid]


def test_parse_names_a_key_without_kid_by_its_thumbprint(ec_key: ECKey) -> None:
    entry = {name: value for name, value in ec_key.as_dict().items() if name != "kid"}

    keys = parse_jwks(document(entry))

    assert [key.kid for key in keys] == [ec_key.thumbprint()]
