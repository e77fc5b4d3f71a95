"""One logging pipeline for the service: every line is a standard logging record, the service's own
and the libraries' (uvicorn, alembic, SQLAlchemy), and structlog's processors turn each into one JSON
object on standard error, with the request's context (request id, route, pseudonymous user, trace and
span ids) and the call's ``extra`` as fields.

Log records never carry secrets, codes or tokens: nothing in the service passes them to a logger,
the user appears only as a keyed hash, and the access line leaves out query strings and headers.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import sys
from collections.abc import Callable, MutableMapping
from functools import lru_cache
from typing import Any, Final, TextIO

import msgspec
import structlog
from opentelemetry import trace

from entrypoints.log_context import USER_ID

EventDict = MutableMapping[str, Any]
Processor = Callable[[Any, str, EventDict], EventDict]

_QUIET: Final = ("httpx", "httpcore", "uvicorn.access", "aiosqlite")
"""Loggers kept at WARNING: the suite's and the service's HTTP clients print request lines with
query strings, aiosqlite prints every statement's parameters at DEBUG, and uvicorn's access line
is replaced by the service's own."""


def add_trace_ids(_logger: Any, _name: str, event: EventDict) -> EventDict:
    """The current span's trace and span ids, as W3C traceparent prints them."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event


def user_pseudonymiser(key: bytes) -> Processor:
    """Replaces the bound user id with ``user``, the first 16 hex digits of HMAC-SHA256(key, id):
    lines of one user can be followed without the log naming anyone."""

    @lru_cache(maxsize=4096)
    def pseudonym(user_id: str) -> str:
        return hmac.new(key, user_id.encode(), hashlib.sha256).hexdigest()[:16]

    def processor(_logger: Any, _name: str, event: EventDict) -> EventDict:
        user_id = event.pop(USER_ID, None)
        if isinstance(user_id, str):
            event["user"] = pseudonym(user_id)
        return event

    return processor


def json_renderer() -> Callable[[Any, str, EventDict], str]:
    """Renders with one msgspec encoder built once; values of other types print as ``str``."""
    encode = msgspec.json.Encoder(enc_hook=str).encode

    def render(_logger: Any, _name: str, event: EventDict) -> str:
        return encode(event).decode()

    return render


def shared_processors(user_key: bytes) -> list[Processor]:
    """What every line goes through, whether it came from structlog or a standard logger."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        add_trace_ids,
        user_pseudonymiser(user_key),
        structlog.processors.format_exc_info,
        structlog.processors.EventRenamer("message"),
    ]


def json_formatter(user_key: bytes | None = None) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of a standard logger's records: the same processors, the record's logger
    name and ``extra`` fields added first."""
    key = user_key or secrets.token_bytes(32)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            *shared_processors(key),
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, json_renderer()],
    )


def configure_logging(
    level: str, user_key: str | None = None, stream: TextIO | None = None
) -> None:
    """JSON lines on ``stream`` (standard error) at ``level``, for the service's and the libraries'
    loggers. ``user_key`` keys the user pseudonym; without one each process draws its own.

    Standard loggers' records go through ``json_formatter``; ``structured_logger`` (the access line)
    skips the standard ``LogRecord`` and formatter and write the rendered line at once: the same
    processors and encoder, about a third of the cost (``bench/log_line_cost.py``).
    """
    key = user_key.encode() if user_key else secrets.token_bytes(32)
    output = stream or sys.stderr
    handler = logging.StreamHandler(output)
    handler.setFormatter(json_formatter(key))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in _QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    global _structured
    _structured = structlog.wrap_logger(
        structlog.WriteLogger(output),
        processors=[*shared_processors(key), json_renderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
    )


_structured: Any = None


def structured_logger() -> Any:
    """The logger of lines that skip the standard library (the access line): built by
    ``configure_logging`` with the same processors and encoder as every other line. Without it (a
    test, a program embedding the app) the lines go to the standard ``mfa.access`` logger, their
    fields as ``extra``, the user pseudonymous all the same."""
    global _structured
    if _structured is None:
        _structured = structlog.wrap_logger(
            logging.getLogger("mfa.access"),
            processors=[
                structlog.contextvars.merge_contextvars,
                add_trace_ids,
                user_pseudonymiser(secrets.token_bytes(32)),
                structlog.stdlib.render_to_log_kwargs,
            ],
            wrapper_class=structlog.stdlib.BoundLogger,
        )
    return _structured
