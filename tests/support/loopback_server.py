"""The one way the tests run a small HTTP server of their own (an identity provider's keys, the
webhook receiver, an introspection endpoint, a fake Kubernetes API): the standard library's threading
server on a free loopback port, served from a daemon thread while a ``with`` block runs."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """Writes no access log: the suites check the service's logs for leaks, not these servers'."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_json(
        self, status: int, document: Any, headers: Mapping[str, str] | None = None
    ) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    # The standard library's backlog of 5 drops connections when many requests arrive at once on a
    # loaded machine; the client then waits for a SYN retransmission and times out.
    request_queue_size = 128


class LoopbackServer:
    """Listens on 127.0.0.1 from construction (so ``port`` is known at once) and answers with
    ``handler`` from ``start()`` (or the ``running()`` block) until ``stop()``. With ``tls``, HTTPS."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], *, tls: ssl.SSLContext | None = None
    ) -> None:
        self._http = _Listener(("127.0.0.1", 0), handler)
        if tls is not None:
            self._http.socket = tls.wrap_socket(self._http.socket, server_side=True)
        self.scheme = "http" if tls is None else "https"
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    @property
    def origin(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=30)

    @contextmanager
    def running(self) -> Iterator[LoopbackServer]:
        self.start()
        try:
            yield self
        finally:
            self.stop()
