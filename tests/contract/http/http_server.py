"""A small HTTP server on loopback that serves one JSON document and counts the requests it gets: the
identity provider's JWKS endpoint, or the place a forged ``jku``/``x5u`` header points at."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CountingServer:
    """Answers every GET with the current document (200, application/json) and records its path.
    Other methods get the server library's 501, and are recorded by no one: nothing POSTs to it."""

    def __init__(self, document: Any = None) -> None:
        self._document = json.dumps(document if document is not None else {}).encode()
        self._lock = threading.Lock()
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.paths.append(self.path)
                    body = server._document
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the suite's logs are checked for leaks, not for this server's chatter."""

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> int:
        with self._lock:
            return len(self.paths)

    def serve(self, document: Any) -> None:
        """Serves ``document`` from now on."""
        with self._lock:
            self._document = json.dumps(document).encode()

    @contextmanager
    def running(self) -> Iterator[CountingServer]:
        self._thread.start()
        try:
            yield self
        finally:
            self._http.shutdown()
            self._http.server_close()
            self._thread.join(timeout=5)
