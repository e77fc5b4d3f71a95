"""The identity provider's introspection endpoint failing: down, refusing connections, slower than
the timeout, or answering what is not an RFC 7662 answer. Each is DependencyUnavailable (a 503 with
Retry-After, never a 401 that logs the customer out), within the timeout, logged without the token.
Timing is not asserted; ``asyncio.timeout`` turns a hang into a failure."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import pytest

from application.errors import DependencyUnavailable
from tests.integration.introspection.conftest import answer_claims, introspection_verifier
from tests.support.delay_proxy import DelayProxy
from tests.support.introspection_server import Fault, IntrospectionServer

HANG_GUARD_SECONDS = 60


def _through(proxy: DelayProxy, idp: IntrospectionServer) -> str:
    return idp.url.replace(f":{idp.port}/", f":{proxy.port}/")


async def test_an_endpoint_slower_than_the_timeout_is_unavailable_then_recovers(
    idp: IntrospectionServer, caplog: pytest.LogCaptureFixture
) -> None:
    token = idp.issue(answer_claims("alice"))
    with DelayProxy("127.0.0.1", idp.port) as proxy:
        async with introspection_verifier(_through(proxy, idp), timeout_seconds=0.5) as verifier:
            proxy.delay = 5.0
            async with asyncio.timeout(HANG_GUARD_SECONDS):
                with pytest.raises(DependencyUnavailable) as raised:
                    await verifier.verify(token)
            proxy.delay = 0.0
            assert (await verifier.verify(token)).subject == "alice"

    assert raised.value.dependency == "identity provider introspection"
    assert raised.value.retry_after > 0
    assert "timed out" in caplog.text
    assert token not in caplog.text


async def test_refused_and_reset_connections_are_unavailable(
    idp: IntrospectionServer, caplog: pytest.LogCaptureFixture
) -> None:
    token = idp.issue(answer_claims("alice"))
    with DelayProxy("127.0.0.1", idp.port) as proxy:
        async with introspection_verifier(_through(proxy, idp)) as verifier:
            proxy.refuse = True
            async with asyncio.timeout(HANG_GUARD_SECONDS):
                with pytest.raises(DependencyUnavailable):
                    await verifier.verify(token)
            proxy.refuse = False
            assert (await verifier.verify(token)).subject == "alice"

    assert token not in caplog.text


async def test_an_endpoint_where_nothing_listens_is_unavailable() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/introspect"
        async with introspection_verifier(url) as verifier, asyncio.timeout(HANG_GUARD_SECONDS):
            with pytest.raises(DependencyUnavailable):
                await verifier.verify("any-token")


MALFORMED = {
    "not JSON": Fault(body=b"<html>gateway</html>", content_type="text/html"),
    "a JSON array": Fault(body=b'[{"active": true}]'),
    "JSON null": Fault(body=b"null"),
    "active missing": Fault(body=b'{"sub": "alice"}'),
    "active a string": Fault(body=b'{"active": "true", "sub": "alice"}'),
    "active a number": Fault(body=b'{"active": 1, "sub": "alice"}'),
    "deeply nested": Fault(body=b"[" * 100_000 + b"]" * 100_000),
    "over 64 KiB": Fault(body=json.dumps({"active": True, "pad": "x" * 70_000}).encode()),
    "HTTP 400": Fault(status=400, body=b'{"error": "invalid_request"}'),
    "HTTP 404": Fault(status=404, body=b"not found", content_type="text/plain"),
}


@pytest.mark.parametrize("fault", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_answer_is_unavailable_with_an_error_log_without_the_token(
    idp: IntrospectionServer, caplog: pytest.LogCaptureFixture, fault: Fault
) -> None:
    token = idp.issue(answer_claims("alice"))
    idp.fault = fault

    async with introspection_verifier(idp.url) as verifier:
        with pytest.raises(DependencyUnavailable):
            await verifier.verify(token)

    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert errors, "a malformed answer is an error log"
    assert token not in caplog.text
    assert "gateway" not in caplog.text, "the answer's content is not logged"


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_error_is_unavailable(idp: IntrospectionServer, status: int) -> None:
    idp.fault = Fault(status=status, body=b"upstream down", content_type="text/plain")

    async with introspection_verifier(idp.url) as verifier:
        with pytest.raises(DependencyUnavailable):
            await verifier.verify(idp.issue(answer_claims("alice")))
