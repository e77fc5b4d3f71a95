"""A served process bounds what a client can hold open (issue 11, outside test): a request must
arrive whole in time, else 408 and the connection is closed; connections past the cap are closed
at once; and a client that hangs up mid-body is an INFO line, not an error."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import cli, running_service
from tests.support.waiting import CEILING_SECONDS as CEILING

READ_TIMEOUT = 1
MAX_CONNECTIONS = 16


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    tmp_path = tmp_path_factory.mktemp("served")
    environment = {
        "MFA_DATA_DIR": str(tmp_path / "var"),
        "MFA_ISSUER": "Example Bank",
        "MFA_REQUEST_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT),
        "MFA_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    }
    log_file = tmp_path / "service.log"
    with running_service(environment, log_file=log_file) as base_url:
        yield base_url, log_file, environment


def _connect(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=CEILING)


def _read_until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes; fails if it is still open after CEILING."""
    received = b""
    deadline = time.monotonic() + CEILING
    while time.monotonic() < deadline:
        chunk = connection.recv(65536)
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept the connection open for {CEILING} s: {received!r}")


def _head_fields(answer: bytes) -> dict[str, str]:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return {
        name.lower(): value.strip() for name, _, value in (line.partition(":") for line in head)
    }


HALF_A_HEAD = b"POST /mfa/verify HTTP/1.1\r\nHost: mfa\r\nContent-Type: appl"
HALF_A_BODY = (
    b"POST /mfa/verify HTTP/1.1\r\nHost: mfa\r\nContent-Type: application/json\r\n"
    b'Authorization: Bearer {token}\r\nContent-Length: 100\r\n\r\n{{"code":'
)


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"", id="nothing"),
        pytest.param(HALF_A_HEAD, id="half a head"),
        pytest.param(HALF_A_BODY, id="half a body"),
    ],
)
def test_a_request_that_does_not_arrive_in_time_gets_408_and_is_closed(
    served: tuple[str, Path, dict[str, str]], sent: bytes
) -> None:
    base_url, _, environment = served
    token = cli(["dev-token", "--sub", "alice"], environment).stdout.strip()
    with _connect(base_url) as connection:
        connection.sendall(sent.replace(b"{token}", token.encode()).replace(b"{{", b"{"))
        answer = _read_until_closed(connection)

    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert _head_fields(answer)["content-type"] == "application/problem+json"
    assert httpx.get(f"{base_url}/health/live", timeout=CEILING).status_code == 200


def test_a_408_keeps_the_request_id_that_arrived(
    served: tuple[str, Path, dict[str, str]],
) -> None:
    base_url, _, _ = served
    with _connect(base_url) as connection:
        connection.sendall(b"POST /mfa/verify HTTP/1.1\r\nX-Request-Id: gateway-1234\r\nHost: m")
        answer = _read_until_closed(connection)

    assert _head_fields(answer)["x-request-id"] == "gateway-1234"


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"FOO /health/live HTTP/1.1\r\nHost: mfa\r\n\r\n", id="unknown method"),
        pytest.param("GET /health/é HTTP/1.1\r\nHost: mfa\r\n\r\n".encode(), id="raw UTF-8 path"),
        pytest.param(b"GET / HTTP/1.1\r\nHo st: mfa\r\n\r\n", id="space in a header name"),
    ],
)
def test_what_is_not_http_gets_a_400_problem_with_every_answers_headers(
    served: tuple[str, Path, dict[str, str]], sent: bytes
) -> None:
    """uvicorn's parser refuses these before the app sees them (outside test: its own text/plain
    400 had no problem+json, no-store, nosniff or request id)."""
    base_url, _, _ = served
    with _connect(base_url) as connection:
        connection.sendall(sent)
        answer = _read_until_closed(connection)

    assert answer.startswith(b"HTTP/1.1 400"), answer
    fields = _head_fields(answer)
    assert fields["content-type"] == "application/problem+json"
    assert (fields["cache-control"], fields["x-content-type-options"]) == ("no-store", "nosniff")
    assert len(fields["x-request-id"]) == 32
    problem = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert problem["status"] == 400
    assert httpx.get(f"{base_url}/health/live", timeout=CEILING).status_code == 200


def test_connections_past_the_cap_are_closed_and_idle_ones_freed(
    served: tuple[str, Path, dict[str, str]],
) -> None:
    base_url, _, _ = served
    held = [_connect(base_url) for _ in range(MAX_CONNECTIONS + 8)]
    try:
        closed = [
            connection
            for connection in held[MAX_CONNECTIONS:]
            if _read_until_closed(connection) == b""
        ]
        assert len(closed) >= 8, "every connection past the cap is closed at once"
        for connection in held[:MAX_CONNECTIONS]:
            _read_until_closed(connection)  # the idle ones are closed after the read timeout
    finally:
        for connection in held:
            connection.close()

    assert httpx.get(f"{base_url}/health/live", timeout=CEILING).status_code == 200


def test_a_client_that_hangs_up_mid_body_is_no_error(
    served: tuple[str, Path, dict[str, str]],
) -> None:
    base_url, log_file, environment = served
    token = cli(["dev-token", "--sub", "alice"], environment).stdout.strip()
    for _ in range(3):
        with _connect(base_url) as connection:
            connection.sendall(
                b"POST /mfa/verify HTTP/1.1\r\nHost: mfa\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + token.encode() + b'\r\nContent-Length: 100\r\n\r\n{"co'
            )
            time.sleep(0.2)  # lets the server start reading the body before the hang-up
    deadline = time.monotonic() + CEILING
    while "client disconnected" not in log_file.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)

    log = log_file.read_text()
    assert "client disconnected before its request was read" in log, log
    assert "Traceback" not in log and "unexpected error" not in log, log
    metrics = httpx.get(f"{base_url}/metrics", timeout=CEILING).text
    assert 'status_code="500"' not in metrics
    assert 'status_code="499"' in metrics
