"""What one access-log line costs: the service's logging pipeline, writing to memory.

    uv run python -m bench.log_line_cost

Prints the best of 100 runs of 1000 lines, in microseconds per line (the README quotes it): the
best run is the one the machine's other work disturbed least.
"""

from __future__ import annotations

import io
import timeit

from entrypoints.log_context import bind_request, bind_user
from entrypoints.logging_setup import configure_logging, structured_logger

LINES = 1000
RUNS = 100


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

    best = min(timeit.repeat(line, number=LINES, repeat=RUNS)) / LINES
    line()
    print(f"one access line: {best * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
