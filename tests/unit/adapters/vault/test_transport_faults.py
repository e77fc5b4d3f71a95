"""Faults a real Vault cannot be made to produce, through an ``httpx.MockTransport`` in place of the
network: every one is DependencyUnavailable from the one error map, logged with a fixed reason and
without the token, never chained."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from adapters.vault.client import VaultClient
from adapters.vault.settings import TokenAuth, VaultSettings
from adapters.vault.transit_cipher import VaultTransitCipher
from application.errors import DependencyUnavailable
from application.ports.secret_cipher import SecretOwner
from domain.secret import TotpSecret

TOKEN = "s.mock-token-never-logged"
SECRET = TotpSecret.from_entropy(os.urandom(20))
OWNER = SecretOwner("alice", uuid.uuid4())
CIPHERTEXT = "vault:v1:" + "A" * 40

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """The mock network: answers with ``handler`` and keeps every request it saw."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.handler: Handler = lambda request: httpx.Response(500)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


@pytest.fixture
def network() -> Recorder:
    return Recorder()


@pytest.fixture
async def cipher(network: Recorder) -> AsyncIterator[VaultTransitCipher]:
    settings = VaultSettings(
        "https://vault.example:8200", TokenAuth(TOKEN), namespace="bank/mfa", timeout=0.5
    )
    client = VaultClient(settings, transport=httpx.MockTransport(network))
    yield VaultTransitCipher(client)
    await client.aclose()


def _raise(error: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


def _tls_refused() -> httpx.ConnectError:
    try:
        raise ssl.SSLCertVerificationError("certificate verify failed")
    except ssl.SSLError as cause:
        try:
            raise httpx.ConnectError(
                "[SSL: CERTIFICATE_VERIFY_FAILED] https://vault.example"
            ) from cause
        except httpx.ConnectError as error:
            return error


def _answer(status: int, body: Any = None, content: bytes | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if content is not None:
            return httpx.Response(status, content=content)
        return httpx.Response(status, json=body)

    return handler


def _batch(*results: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"batch_results": list(results)}}


FAULTS: dict[str, tuple[Handler, str]] = {
    "connection closed mid-answer": (
        _raise(httpx.RemoteProtocolError("peer closed connection without sending complete body")),
        "connection closed or answer malformed",
    ),
    "connection reset while reading": (_raise(httpx.ReadError("reset")), "network failure"),
    "connection reset while writing": (_raise(httpx.WriteError("broken pipe")), "network failure"),
    "connect timeout": (_raise(httpx.ConnectTimeout("timed out")), "connect timeout"),
    "read timeout": (_raise(httpx.ReadTimeout("timed out")), "HTTP timeout"),
    "no free connection": (_raise(httpx.PoolTimeout("pool")), "no free connection"),
    "TLS refused": (_raise(_tls_refused()), "TLS handshake or certificate verification failed"),
    "socket error": (_raise(ConnectionResetError(104, "reset")), "network failure"),
    "success that is not JSON": (_answer(200, content=b"<html>proxy</html>"), "no JSON object"),
    "success that is a JSON list": (_answer(200, body=[1, 2]), "no JSON object"),
    "success without batch results": (_answer(200, body={"data": {}}), "no valid batch_results"),
    "batch results out of order": (
        _answer(200, body=_batch({"reference": "7", "plaintext": "AAAA"})),
        "batch_results out of order",
    ),
    "batch results of another length": (
        _answer(200, body=_batch({"reference": "0"}, {"reference": "1"})),
        "no valid batch_results",
    ),
    "a plaintext that is not base64 text": (
        _answer(200, body=_batch({"reference": "0", "plaintext": 42})),
        "no valid plaintext",
    ),
    "a redirect elsewhere": (
        lambda request: httpx.Response(307, headers={"Location": "https://evil.example/"}),
        "unexpected status 307",
    ),
    "a load balancer's 502": (_answer(502, content=b"bad gateway"), "bad gateway (502)"),
    "rate limited": (_answer(429, body={"errors": []}), "rate limited or standby (429)"),
    "not yet consistent": (_answer(412, body={"errors": []}), "not yet consistent"),
}


@pytest.fixture(params=sorted(FAULTS), ids=str)
def fault(request: pytest.FixtureRequest) -> tuple[Handler, str]:
    return FAULTS[request.param]


async def test_each_fault_is_unavailable_with_a_fixed_reason_and_no_secret(
    cipher: VaultTransitCipher,
    network: Recorder,
    fault: tuple[Handler, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    network.handler, reason = fault
    with caplog.at_level(logging.WARNING), pytest.raises(DependencyUnavailable) as raised:
        await cipher.decrypt(CIPHERTEXT, OWNER)

    assert raised.value.dependency == "vault"
    assert reason in caplog.text
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    for leak in (TOKEN, CIPHERTEXT, "evil.example", "vault.example"):
        assert leak not in caplog.text
    transit = [r for r in network.requests if r.url.path.startswith("/v1/transit/")]
    assert len(transit) == 1  # never retried, never redirected


async def test_requests_carry_the_token_namespace_and_json_and_go_to_the_transit_path(
    cipher: VaultTransitCipher, network: Recorder
) -> None:
    network.handler = _answer(200, body=_batch({"reference": "0", "ciphertext": CIPHERTEXT}))
    assert await cipher.encrypt(SECRET, OWNER) == CIPHERTEXT
    (request,) = [r for r in network.requests if r.url.path.startswith("/v1/transit/")]
    assert (request.method, str(request.url)) == (
        "POST",
        "https://vault.example:8200/v1/transit/encrypt/mfa-totp",
    )
    assert request.headers["X-Vault-Token"] == TOKEN
    assert request.headers["X-Vault-Namespace"] == "bank/mfa"
    assert request.headers["Content-Type"] == "application/json"


async def test_a_vault_that_never_answers_is_unavailable_within_the_deadline(
    network: Recorder,
) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    client = VaultClient(
        VaultSettings("https://vault.example", TokenAuth(TOKEN), timeout=0.2),
        transport=httpx.MockTransport(hang),
    )
    try:
        async with asyncio.timeout(30):  # a hang fails the test instead of stalling the run
            with pytest.raises(DependencyUnavailable):
                await VaultTransitCipher(client).decrypt(CIPHERTEXT, OWNER)
    finally:
        await client.aclose()


async def test_a_programming_error_is_not_disguised_as_an_outage(
    cipher: VaultTransitCipher, network: Recorder
) -> None:
    network.handler = _raise(ZeroDivisionError())
    with pytest.raises(ZeroDivisionError):
        await cipher.decrypt(CIPHERTEXT, OWNER)
