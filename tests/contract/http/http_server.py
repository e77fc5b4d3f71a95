"""A small HTTP server on loopback that serves one JSON document and counts the requests it gets: the
identity provider's JWKS endpoint, or the place a forged ``jku``/``x5u`` header points at."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.loopback_server import LoopbackServer, QuietHandler


class CountingServer:
    """Answers every GET with the current document (200, application/json) and records its path.
    Other methods get the server library's 501, and are recorded by no one: nothing POSTs to it."""

    def __init__(self, document: Any = None) -> None:
        self._document = json.dumps(document if document is not None else {}).encode()
        self._lock = threading.Lock()
        self.paths: list[str] = []
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.paths.append(self.path)
                    body = server._document
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = LoopbackServer(Handler)

    @property
    def url(self) -> str:
        return self._server.origin

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
        with self._server.running():
            yield self
