"""uvicorn's httptools protocol with the bounds it lacks, the time to send a request and the
number of open connections, and with its own answers in the service's form (problem+json).

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive``, but it waits forever
for a connection that sends nothing, or half a request head, or half a body: a client holding a
thousand such connections takes a worker past its file limit (issue 11, outside test). Here every
request must arrive whole within ``MFA_REQUEST_READ_TIMEOUT_SECONDS`` of its first byte (or of
the connection's opening), else it is answered 408 and the connection closed; and a worker closes
at once any connection beyond ``MFA_MAX_CONNECTIONS``, so that it keeps the file descriptors its
database pool, Vault client and logs need.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import resource
from dataclasses import dataclass
from http import HTTPStatus

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from entrypoints.http.problems import PROBLEM_JSON, TYPE_PREFIX
from entrypoints.http.request_context import REQUEST_ID_HEADER, kept_or_new_request_id
from entrypoints.http.response_headers import ALWAYS, NO_STORE
from entrypoints.settings import Settings

logger = logging.getLogger(__name__)

FILE_DESCRIPTOR_RESERVE = 128
"""Descriptors kept for what is not a client connection: the database pool and its overflow,
Vault's connection pool, log files, the listening socket."""


def _closing_problem(
    status: HTTPStatus, slug: str, title: str, detail: str, request_id: str
) -> bytes:
    """A whole problem+json answer that closes the connection, with the headers Litestar's hooks
    give every other answer (``response_headers``); the request never reached the app."""
    body = json.dumps(
        {"type": TYPE_PREFIX + slug, "title": title, "status": status.value, "detail": detail}
    ).encode()
    headers = {
        "content-type": PROBLEM_JSON,
        "content-length": str(len(body)),
        **{name.lower(): value for name, value in {**ALWAYS, **NO_STORE}.items()},
        REQUEST_ID_HEADER: request_id,
        "connection": "close",
    }
    head = f"HTTP/1.1 {status.value} {status.phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return head.encode("latin-1") + b"\r\n" + body


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    read_timeout_seconds: float
    max_connections: int


def connection_limits(settings: Settings) -> ConnectionLimits:
    """The limits ``settings`` ask for; without ``max_connections``, the process's soft file
    limit less :data:`FILE_DESCRIPTOR_RESERVE` (at least 16)."""
    maximum = settings.max_connections
    if maximum is None:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        maximum = (
            max(16, soft - FILE_DESCRIPTOR_RESERVE) if soft != resource.RLIM_INFINITY else 10_000
        )
    return ConnectionLimits(settings.request_read_timeout_seconds, maximum)


@functools.cache
def _limits_of_this_process() -> ConnectionLimits:
    # uvicorn builds a protocol per connection with no way to pass it our settings, and starts
    # worker processes that read their settings from the same MFA_* environment as serve did.
    return connection_limits(Settings.from_environment(os.environ))


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Answers 408 to a request that is not whole in time, and refuses connections past the cap."""

    _read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        limits = _limits_of_this_process()
        if len(self.connections) >= limits.max_connections:
            logger.warning("connection refused: %d connections open", len(self.connections))
            transport.abort()
            return
        super().connection_made(transport)
        self._arm_read_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_read_deadline()
        if getattr(self, "transport", None) is not None:
            super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_read_deadline()

    def on_message_complete(self) -> None:
        self._disarm_read_deadline()
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to bytes its parser refuses (a method or path that is not HTTP), as
        problem+json with every answer's headers instead of uvicorn's plain text."""
        request_id = self._request_id()
        self.transport.write(
            _closing_problem(
                HTTPStatus.BAD_REQUEST,
                "malformed-request",
                "Malformed request",
                "The request is not valid HTTP/1.1.",
                request_id,
            )
        )
        logger.info("request not valid HTTP/1.1: answered 400 (request id %s)", request_id)
        self.transport.close()

    def _request_id(self) -> str:
        """The well-formed ``X-Request-Id`` of what arrived of the request's head, else a new one."""
        incoming = next(
            (value for name, value in self.headers or () if name == REQUEST_ID_HEADER.encode()),
            None,
        )
        return kept_or_new_request_id(incoming.decode("latin-1") if incoming else None)

    def _arm_read_deadline(self) -> None:
        self._disarm_read_deadline()
        self._read_deadline = self.loop.call_later(
            _limits_of_this_process().read_timeout_seconds, self._on_read_timeout
        )

    def _disarm_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _on_read_timeout(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing():
            return
        response_started = self.cycle is not None and self.cycle.response_started
        request_id = self._request_id()
        if not response_started:
            self.transport.write(
                _closing_problem(
                    HTTPStatus.REQUEST_TIMEOUT,
                    "request-timeout",
                    "Request timeout",
                    "The request did not arrive in time. Send it again.",
                    request_id,
                )
            )
        logger.info("request not received in time: connection closed (request id %s)", request_id)
        self.transport.close()
