"""The service's real logging pipeline, writing into memory for the block."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from entrypoints import logging_setup
from entrypoints.logging_setup import configure_logging

LOG_USER_KEY = "test-log-user-key"


@contextmanager
def captured_logs(level: str = "DEBUG") -> Iterator[io.StringIO]:
    """``configure_logging`` as the service does it, into the yielded buffer; the test process's
    logging is put back afterwards."""
    root = logging.getLogger()
    handlers, root_level = root.handlers[:], root.level
    structured = logging_setup._structured
    buffer = io.StringIO()
    configure_logging(level, LOG_USER_KEY, buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = handlers
        root.setLevel(root_level)
        logging_setup._structured = structured


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Every line, parsed: each must be one JSON object."""
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
