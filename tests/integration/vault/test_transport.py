"""Urllib3Session answers like requests.Session would: the same response and exception types."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from adapters.vault.transport import Urllib3Session


class _Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        payload = {
            "method": self.command,
            "path": self.path,
            "token": self.headers.get("X-Vault-Token"),
            "contentType": self.headers.get("Content-Type"),
            "body": body,
        }
        status = 400 if self.path.startswith("/refuse") else 200
        if self.path.startswith("/redirect"):
            status = 307
        encoded = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    do_GET = do_POST = do_LIST = _answer  # noqa: N815 - http.server's naming

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_json_body_headers_and_query_are_sent_and_the_answer_read(echo_url: str) -> None:
    session = Urllib3Session()
    response = session.request(
        "post",
        f"{echo_url}/v1/transit/decrypt/k",
        headers={"X-Vault-Token": "t"},
        timeout=2,
        json={"ciphertext": "vault:v1:abc"},
        params={"list": "true"},
    )
    assert isinstance(response, requests.Response)
    assert response.ok and response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "method": "POST",
        "path": "/v1/transit/decrypt/k?list=true",
        "token": "t",
        "contentType": "application/json",
        "body": '{"ciphertext": "vault:v1:abc"}',
    }


def test_an_error_status_is_a_response_and_a_redirect_is_not_followed(echo_url: str) -> None:
    session = Urllib3Session()
    refused = session.request("post", f"{echo_url}/refuse", timeout=2, json={})
    redirected = session.request("list", f"{echo_url}/redirect", timeout=2)
    assert (refused.ok, refused.status_code) == (False, 400)
    assert refused.json()["path"] == "/refuse"
    assert redirected.status_code == 307
    assert redirected.json()["method"] == "LIST"


def test_nothing_listening_is_a_requests_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the request
    with pytest.raises(requests.ConnectionError):
        Urllib3Session().request("get", f"http://127.0.0.1:{port}/v1/sys/health", timeout=2)


def test_a_server_that_never_answers_is_a_requests_read_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(requests.ReadTimeout):
            Urllib3Session().request("get", f"http://127.0.0.1:{port}/v1/sys/health", timeout=0.2)
