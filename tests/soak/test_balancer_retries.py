"""The soak's HAProxy (the deployment's model) in front of one replica that dies on every request
it receives and one that answers: a read, or a POST with an Idempotency-Key, is sent again to the
live replica; any other request is answered 502 with Retry-After and never sent twice."""

from __future__ import annotations

import shutil
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from bench.stack import free_port, start_process, stop_process
from soak.cluster import SEND_AGAIN_ONLY_IF_HARMLESS, Replica, haproxy_config

READY_CEILING_SECONDS = 30.0


class _Backend(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, *, dies: bool) -> None:
        self.dies = dies
        self.received: Counter[str] = Counter()
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(socketserver.StreamRequestHandler):
    server: _Backend

    def handle(self) -> None:
        while request_line := self.rfile.readline():
            method, path, _ = request_line.decode().split(" ", 2)
            length = 0
            while (line := self.rfile.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.rfile.read(length)
            if path == "/health/ready":
                self._answer(b"ok")
                continue
            self.server.received[method] += 1
            if self.server.dies:  # the request arrived; the process is gone before answering
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._answer(b'{"served": true}')

    def _answer(self, body: bytes) -> None:
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )


@contextmanager
def _serving(backend: _Backend) -> Iterator[_Backend]:
    thread = threading.Thread(target=backend.serve_forever, daemon=True)
    thread.start()
    try:
        yield backend
    finally:
        backend.shutdown()
        backend.server_close()


@pytest.fixture
def balancer(tmp_path: Path) -> Iterator[tuple[str, _Backend, _Backend]]:
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    assert haproxy, "haproxy is not installed (Debian package haproxy; scripts/system-deps.sh)"
    replicas = [Replica(index, free_port(), tmp_path / f"r{index}.log", {}) for index in (0, 1)]
    port = free_port()
    config = haproxy_config(port, replicas, tmp_path)
    with (
        _serving(_Backend(replicas[0].port, dies=True)) as dying,
        _serving(_Backend(replicas[1].port, dies=False)) as live,
    ):
        process = start_process([haproxy, "-f", str(config)], log=tmp_path / "haproxy.log", env={})
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_both_serve(url, dying, live)
            yield url, dying, live
        finally:
            stop_process(process, grace_seconds=5)


def _wait_until_both_serve(url: str, dying: _Backend, live: _Backend) -> None:
    """HAProxy is up and has sent a read to each replica (round robin)."""
    with httpx.Client(base_url=url, timeout=10) as client:
        for _ in range(int(READY_CEILING_SECONDS / 0.2)):
            with suppress(httpx.TransportError):
                client.get("/warm-up")
            if dying.received["GET"] and live.received["GET"]:
                dying.received.clear()
                live.received.clear()
                return
            time.sleep(0.2)
    raise AssertionError(
        f"HAProxy did not send reads to both replicas in {READY_CEILING_SECONDS} s"
    )


def test_a_read_the_replica_died_on_is_sent_to_another(
    balancer: tuple[str, _Backend, _Backend],
) -> None:
    url, dying, live = balancer
    with httpx.Client(base_url=url, timeout=30) as client:
        answers = [client.get("/settings/MfaSecret").status_code for _ in range(6)]

    assert answers == [200] * 6
    assert dying.received["GET"] >= 1, "round robin never sent a read to the dying replica"
    assert live.received["GET"] == 6


def test_a_post_with_an_idempotency_key_is_sent_again(
    balancer: tuple[str, _Backend, _Backend],
) -> None:
    url, dying, live = balancer
    with httpx.Client(base_url=url, timeout=30) as client:
        answers = [
            client.post(
                "/mfa/verify", json={"code": "123456"}, headers={"Idempotency-Key": f"k{n}"}
            ).status_code
            for n in range(6)
        ]

    assert answers == [200] * 6
    assert dying.received["POST"] >= 1
    assert live.received["POST"] == 6


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_a_change_without_a_key_the_replica_died_on_is_502_with_retry_after_and_never_repeated(
    balancer: tuple[str, _Backend, _Backend], method: str
) -> None:
    url, dying, live = balancer
    answers = []
    for _ in range(6):
        with httpx.Client(base_url=url, timeout=30) as client:  # each its connection's first
            answers.append(client.request(method, "/settings/MfaSecret/x", json={"code": "1"}))

    cut = [a for a in answers if a.status_code == 502]
    assert cut, "round robin never sent a change to the dying replica"
    assert all(a.headers.get("retry-after", "").isdigit() for a in cut)
    assert {a.status_code for a in answers} <= {200, 502}
    assert dying.received[method] == len(cut)
    assert live.received[method] == len(answers) - len(cut), "a change was sent twice"


def test_a_change_cut_on_a_kept_alive_connection_closes_it_without_an_answer(
    balancer: tuple[str, _Backend, _Backend],
) -> None:
    """HAProxy answers as a server whose kept-alive connection closed would: the client knows
    the request may have been carried out (RFC 9112, 9.3.1) and retries it only if it is safe."""
    url, dying, live = balancer
    served, closed = 0, 0
    with httpx.Client(base_url=url, timeout=30) as client:
        client.get("/warm-up")  # the requests below are not their connection's first
        for _ in range(6):
            try:
                answer = client.post("/mfa/verify", json={"code": "123456"})
            except httpx.RemoteProtocolError:
                closed += 1
            else:
                assert answer.status_code in (200, 502), answer.status_code
                served += answer.status_code == 200
                closed += answer.status_code == 502

    assert closed, "round robin never sent a change to the dying replica"
    assert dying.received["POST"] == closed
    assert live.received["POST"] == served, "a change was sent twice"


def test_the_deployment_load_balancer_sends_again_what_the_soak_proves_safe() -> None:
    deployed = (Path(__file__).parents[2] / "deploy" / "compose" / "haproxy.cfg").read_text()
    for line in (
        "retry-on conn-failure empty-response",
        "option http-buffer-request",
        "option redispatch 1",
        SEND_AGAIN_ONLY_IF_HARMLESS,
    ):
        assert line in deployed, line
    for status in (502, 503, 504):
        assert (
            f"http-error status {status} content-type application/problem+json hdr Retry-After 1"
            in deployed
        )
