"""SIGTERM to a served process under load, as a rolling update sends it: readiness turns 503 at
once while the process keeps serving for the drain, a request in flight when the listener closes
still gets its answer, no request fails, and the process exits 0."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support.processes import cli, served_process
from tests.support.waiting import CEILING_SECONDS, wait_until

LOAD_CLIENTS = 6


def _development(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "MFA_DATA_DIR": str(tmp_path / "var"),
        "MFA_ISSUER": "Example Bank",
        "MFA_ENROLLMENTS_PER_HOUR": "1000",
        # The partial requests below wait for the test's steps, not for a slow client's deadline.
        "MFA_REQUEST_READ_TIMEOUT_SECONDS": "300",
        **extra,
    }


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    wait_until(condition, what, interval=0.05)


def _ready_status(base_url: str) -> int | None:
    try:
        return httpx.get(f"{base_url}/health/ready", timeout=5).status_code
    except httpx.TransportError:
        return None


def _refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


class _Load:
    """Clients on keep-alive connections, each listing its authenticators (a database read, so
    that SQLite's single writer does not turn the load into 503s) until told to stop sending,
    as a load balancer stops once readiness says 503."""

    def __init__(self, base_url: str, token: str) -> None:
        self.stop = threading.Event()
        self.statuses: list[int] = []
        self.errors: list[str] = []
        self._threads = [
            threading.Thread(target=self._client, args=(base_url, token), daemon=True)
            for _ in range(LOAD_CLIENTS)
        ]

    def __enter__(self) -> _Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=CEILING_SECONDS)

    def _client(self, base_url: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
            while not self.stop.is_set():
                try:
                    answer = client.get("/settings/MfaSecret")
                except httpx.HTTPError as error:
                    self.errors.append(repr(error))
                    return
                self.statuses.append(answer.status_code)


def _start_partial_request(port: int, token: str) -> tuple[socket.socket, bytes]:
    """A request whose headers and half its body are sent: in flight until the rest follows."""
    body = b'{"mfaMethod":"totp","deviceName":"slow phone"}'
    connection = socket.create_connection(("127.0.0.1", port), timeout=CEILING_SECONDS)
    connection.sendall(
        b"POST /settings/MfaSecret HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:10]
    )
    return connection, body[10:]


def _status_line(connection: socket.socket) -> bytes:
    received = b""
    while b"\r\n" not in received:
        chunk = connection.recv(4096)
        if not chunk:
            break
        received += chunk
    return received.split(b"\r\n", 1)[0]


def _exit_status(process: subprocess.Popen[bytes]) -> int:
    try:
        return process.wait(timeout=CEILING_SECONDS)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running {CEILING_SECONDS:.0f} s after SIGTERM") from None


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_under_load_drains_finishes_in_flight_and_exits_zero(
    tmp_path: Path, workers: str
) -> None:
    environment = _development(tmp_path, MFA_SHUTDOWN_DRAIN_SECONDS="3")
    token = cli(["dev-token", "--sub", "alice", "--ttl", "3600"], environment).stdout.strip()
    log_file = tmp_path / "service.log"
    with served_process(environment, "--workers", workers, log_file=log_file) as (url, process):
        port = int(url.rsplit(":", 1)[1])
        _wait_for(lambda: _ready_status(url) == 200, "the service is ready")
        with _Load(url, token) as load:
            _wait_for(lambda: len(load.statuses) >= 20, "the load is under way")
            in_flight, rest_of_body = _start_partial_request(port, token)
            process.send_signal(signal.SIGTERM)
            _wait_for(lambda: _ready_status(url) == 503, "readiness answers 503 after SIGTERM")
            served_while_draining = len(load.statuses)
            _wait_for(
                lambda: len(load.statuses) > served_while_draining + 5,
                "requests are still served while readiness says 503",
            )
        _wait_for(lambda: _refuses_connections(port), "the listener closes after the drain")
        in_flight.sendall(rest_of_body)
        assert _status_line(in_flight) == b"HTTP/1.1 200 OK"
        in_flight.close()
        assert _exit_status(process) == 0, log_file.read_text()
    assert load.errors == []
    assert set(load.statuses) == {200}


def test_a_request_that_never_finishes_is_cut_after_the_grace_period(tmp_path: Path) -> None:
    environment = _development(tmp_path, MFA_SHUTDOWN_GRACE_SECONDS="1")
    token = cli(["dev-token", "--sub", "bob"], environment).stdout.strip()
    log_file = tmp_path / "service.log"
    with served_process(environment, log_file=log_file) as (url, process):
        port = int(url.rsplit(":", 1)[1])
        stuck, _ = _start_partial_request(port, token)
        _wait_for(lambda: _ready_status(url) == 200, "the service is ready")
        process.send_signal(signal.SIGTERM)
        assert _exit_status(process) == 0, log_file.read_text()
        stuck.close()
    assert "timeout graceful shutdown exceeded" in log_file.read_text()
