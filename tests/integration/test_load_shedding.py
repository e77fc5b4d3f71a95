"""Bounded concurrency per worker, on a served process: past MFA_MAX_CONCURRENT_REQUESTS a request
is answered 503 with Retry-After at once (not queued) and counted in /metrics, health stays
answered, and the admitted request is served as usual.

A request is held in flight deterministically: its headers are sent, its body is not (the service
reads the body after admitting it), until the test sends the rest.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.support.processes import cli, running_service
from tests.support.waiting import CEILING_SECONDS

HELD_BODY = b'{"code":"123456"}'
FLOOD = 32
SHED_POSTS = 'mfa_requests_total{method="POST",path="(shed)",status_code="503"}'


def _environment(tmp_path: Path, limit: int) -> dict[str, str]:
    return {
        "MFA_DATA_DIR": str(tmp_path / "var"),
        "MFA_ISSUER": "Example Bank",
        "MFA_MAX_CONCURRENT_REQUESTS": str(limit),
        "MFA_REQUEST_READ_TIMEOUT_SECONDS": "300",  # the held request's body waits on the test
    }


@contextmanager
def held_request(base_url: str, token: str) -> Iterator[socket.socket]:
    """A POST /mfa/verify whose body has not been sent yet: it occupies one slot."""
    address = urlsplit(base_url)
    connection = socket.create_connection((address.hostname, address.port), timeout=30)
    try:
        head = (
            "POST /mfa/verify HTTP/1.1\r\n"
            f"Host: {address.netloc}\r\n"
            f"Authorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(HELD_BODY)}\r\n\r\n"
        )
        connection.sendall(head.encode())
        yield connection
    finally:
        connection.close()


def _status_line(connection: socket.socket) -> str:
    answer = b""
    while b"\r\n" not in answer:
        chunk = connection.recv(4096)
        assert chunk, "the service closed the held connection without an answer"
        answer += chunk
    return answer.split(b"\r\n", 1)[0].decode()


async def _flood(base_url: str, token: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30, trust_env=False) as client:
        return await asyncio.gather(
            *(
                client.post(
                    "/settings/MfaSecret",
                    json={"mfaMethod": "totp"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                for _ in range(FLOOD)
            )
        )


def _assert_shed(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:mfa-service:problem:overloaded"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-Id"]


def test_past_the_limit_requests_are_shed_at_once_and_health_still_answers(
    tmp_path: Path,
) -> None:
    environment = _environment(tmp_path, limit=1)
    with running_service(environment, log_file=tmp_path / "service.log") as base_url:
        token = cli(["dev-token", "--sub", "alice"], environment).stdout.strip()
        with held_request(base_url, token) as held:
            deadline = time.monotonic() + CEILING_SECONDS
            while True:  # until the service has admitted the held request
                probe = httpx.get(
                    f"{base_url}/settings/MfaSecret",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
                if probe.status_code == 503:
                    break
                assert probe.status_code == 200, probe.text
                assert time.monotonic() < deadline, "the held request never took the slot"
                time.sleep(0.05)
            _assert_shed(probe)

            flood = asyncio.run(_flood(base_url, token))
            for response in flood:
                _assert_shed(response)
            assert httpx.get(f"{base_url}/health/live", timeout=30).status_code == 200
            metrics = httpx.get(f"{base_url}/metrics", timeout=30)
            assert metrics.status_code == 200
            assert f"{SHED_POSTS} {float(FLOOD)}" in metrics.text

            held.sendall(HELD_BODY)
            assert _status_line(held) == "HTTP/1.1 404 Not Found"  # alice has no authenticator

        enrolled = httpx.post(
            f"{base_url}/settings/MfaSecret",
            json={"mfaMethod": "totp"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert enrolled.status_code == 200, enrolled.text


def test_a_flood_gets_only_answers_or_fast_refusals(tmp_path: Path) -> None:
    environment = _environment(tmp_path, limit=2)
    with running_service(environment, log_file=tmp_path / "service.log") as base_url:
        tokens = [
            cli(["dev-token", "--sub", f"user-{n}"], environment).stdout.strip() for n in range(2)
        ]
        responses = [
            response for token in tokens for response in asyncio.run(_flood(base_url, token))
        ]
    statuses = {response.status_code for response in responses}
    assert statuses <= {200, 429, 503}, statuses
    for response in responses:
        if response.status_code == 503:
            _assert_shed(response)
