"""N replicas of ``mfa-service serve`` (each its own process group and port) behind HAProxy, whose
health checks read ``/health/ready``; each answer says which replica served it
(``X-Soak-Replica``)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx

from bench.stack import StackError, free_port, start_process, stop_process, tail, tool_beside_python

CHECK_INTERVAL_MS: Final = 500
CHECK_TIMEOUT_MS: Final = 2500
"""Readiness may take up to 2 s (its probes' bound); HAProxy's default is the interval, which on a
loaded machine marked ready replicas down."""
FALL: Final = 3
RISE: Final = 2
DRAIN_SECONDS: Final = 3.0
"""Above FALL health-check intervals, so HAProxy sees readiness 503 before the listener closes."""
READY_CEILING_SECONDS: Final = 180.0

SEND_AGAIN_ONLY_IF_HARMLESS: Final = (
    "http-request disable-l7-retry unless METH_GET || { req.hdr(idempotency-key) -m found }"
)
"""A request that never reached a replica (``conn-failure``) is sent to another at once. One a
replica received and then died on (``empty-response``: ``kill -9``, a crash) is sent again only
when that cannot do anything twice: a read (GET, HEAD), or a POST with an ``Idempotency-Key``
(the retry gets the first answer, or 409). Any other is answered 502 with Retry-After: it may have
been carried out (a code accepted, an authenticator removed), and sending it again would answer
the customer about the repeat (a replayed code, 404) and count a failure they did not make."""

_LB_ERROR = """HTTP/1.1 {status} {reason}\r
Content-Type: application/problem+json\r
Cache-Control: no-store\r
Retry-After: 1\r
X-Soak-Replica: haproxy\r
Connection: close\r
\r
{{"type":"urn:mfa-service:problem:load-balancer","title":"{reason}","status":{status}}}
"""


@dataclass
class Replica:
    index: int
    port: int
    log: Path
    environment: Mapping[str, str]
    process: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"r{self.index}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        mfa_service = tool_beside_python("mfa-service", "run the soak with `uv run`")
        command = [str(mfa_service), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("a") as output:
            output.write(f"# {time.strftime('%H:%M:%S')} start\n")
        self.process = start_process(command, log=self.log, env=self.environment)
        self.starts.append(time.time())

    def wait_ready(self, ceiling: float = READY_CEILING_SECONDS) -> None:
        deadline = time.monotonic() + ceiling
        while True:
            if self.process is None or self.process.poll() is not None:
                raise StackError(f"replica {self.name} exited:\n{tail(self.log)}")
            with suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise StackError(
                    f"replica {self.name} not ready in {ceiling:.0f} s:\n{tail(self.log)}"
                )
            time.sleep(0.2)

    def terminate(self, ceiling: float = 90.0) -> int:
        """SIGTERM, as a rolling update sends it; returns the exit status."""
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=ceiling)
        except subprocess.TimeoutExpired:
            stop_process(self.process, grace_seconds=0)
            raise StackError(
                f"replica {self.name} still running {ceiling:.0f} s after SIGTERM"
            ) from None

    def kill(self) -> None:
        """SIGKILL to the replica's process group: a crash."""
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace_seconds=30)


def haproxy_config(port: int, replicas: list[Replica], folder: Path) -> Path:
    errors = []
    for status, reason in (
        (502, "Bad Gateway"),
        (503, "Service Unavailable"),
        (504, "Gateway Timeout"),
    ):
        page = folder / f"{status}.http"
        page.write_text(_LB_ERROR.format(status=status, reason=reason))
        errors.append(f"    errorfile {status} {page}")
    servers = "\n".join(
        f"    server {r.name} 127.0.0.1:{r.port} check inter {CHECK_INTERVAL_MS} fall {FALL} rise {RISE}"
        for r in replicas
    )
    config = folder / "haproxy.cfg"
    config.write_text(
        f"""global
    maxconn 1000

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 30s
    timeout check {CHECK_TIMEOUT_MS}ms
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    option http-buffer-request
{chr(10).join(errors)}

frontend soak
    bind 127.0.0.1:{port}
    default_backend mfa
    http-response set-header X-Soak-Replica %s

backend mfa
    balance roundrobin
    option httpchk GET /health/ready
    http-check expect status 200
    {SEND_AGAIN_ONLY_IF_HARMLESS}
{servers}
"""
    )
    return config


@dataclass
class Cluster:
    url: str
    replicas: list[Replica]
    haproxy: subprocess.Popen[bytes]


@contextmanager
def cluster(environment: Mapping[str, str], *, replicas: int, folder: Path) -> Iterator[Cluster]:
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    if haproxy is None:
        raise StackError(
            "haproxy is not installed (Debian package haproxy; scripts/system-deps.sh)"
        )
    members = [
        Replica(index, free_port(), folder / f"replica-{index}.log", environment)
        for index in range(replicas)
    ]
    for replica in members:
        replica.start()
    balancer: subprocess.Popen[bytes] | None = None
    try:
        for replica in members:
            replica.wait_ready()
        port = free_port()
        config = haproxy_config(port, members, folder)
        balancer = start_process(
            [haproxy, "-f", str(config)], log=folder / "haproxy.log", env=os.environ
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_CEILING_SECONDS
        while True:
            with suppress(httpx.TransportError):
                if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                    break
            if balancer.poll() is not None or time.monotonic() > deadline:
                raise StackError(
                    f"HAProxy did not answer {url}/health/ready within {READY_CEILING_SECONDS:.0f} s"
                    f" or exited:\n{tail(folder / 'haproxy.log')}"
                )
            time.sleep(0.2)
        time.sleep(RISE * CHECK_INTERVAL_MS / 1000 + 0.5)  # every replica marked up
        yield Cluster(url, members, balancer)
    finally:
        if balancer is not None:
            stop_process(balancer, grace_seconds=5)
        for replica in members:
            replica.stop()
