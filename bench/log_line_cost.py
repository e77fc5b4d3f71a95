"""What one access-log line costs: the service's logging pipeline, writing to memory.

    uv run python -m bench.log_line_cost

Prints the best of five runs in microseconds per line (the README quotes it) and the line.
"""

from __future__ import annotations

import io
import timeit

from entrypoints.log_context import bind_request, bind_user
from entrypoints.logging_setup import configure_logging, structured_logger

LINES = 20_000


def main() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "bench-key", stream)
    bind_request("4cdd0a0e5ab2842cd664ccd8b02d1862", "/settings/MfaSecret")
    bind_user("alice")

    access_log = structured_logger()

    def line() -> None:
        access_log.info(
            "request",
            logger="mfa.access",
            request_id="4cdd0a0e5ab2842cd664ccd8b02d1862",
            method="POST",
            route="/settings/MfaSecret",
            status=200,
            duration_ms=12.3,
            bytes=1024,
        )
        stream.seek(0)
        stream.truncate()

    best = min(timeit.repeat(line, number=LINES, repeat=5)) / LINES
    line()
    print(f"one access line: {best * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
