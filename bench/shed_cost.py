"""What a shed 503 costs the service, before and after, in one run, as a multiple of a
``GET /health/live`` measured in the same run (the framework's floor).

    uv run python -m bench.shed_cost [--base-ref main] [--rounds 5] [--requests 3000]

Serves the base commit's code (``git archive`` into a temporary folder) and the working copy's side
by side, each as ``mfa-service serve --workers 1`` on the development profile with
``MFA_MAX_CONCURRENT_REQUESTS=1``, and fills each one's only slot with a request whose body is never
sent. Then, alternately on base and head (A B A B ...), a bounded loop of keep-alive requests over 8
connections: ``--requests`` health checks, then as many ``POST /mfa/verify`` that are all shed.
Service CPU (the serving process, from /proc) per answer; medians over the rounds. Prints a Markdown
table. The client runs in this process on the same cores: only the service's CPU is compared.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from bench import procstat, stack
from bench.checkout import extract_code

ROOT: Final = Path(__file__).resolve().parent.parent
CONNECTIONS: Final = 8
CODE: Final = ("domain", "application", "adapters", "entrypoints")
VERIFY_BODY: Final = b'{"code":"123456"}'


@dataclass(frozen=True, slots=True)
class Served:
    name: str
    port: int
    pid: int
    token: str


def _cli(*args: str) -> list[str]:
    """The project's CLI on this interpreter; ``PYTHONPATH`` chooses whose code it runs."""
    return [sys.executable, "-c", "import sys; from entrypoints.cli import main; main()", *args]


@contextmanager
def _serve(name: str, code: Path, data: Path) -> Iterator[Served]:
    port = stack.free_port()
    environment = {
        **stack.clean_environment(),
        "PYTHONPATH": str(code),
        "MFA_DATA_DIR": str(data),
        "MFA_ISSUER": "Example Bank",
        "MFA_MAX_CONCURRENT_REQUESTS": "1",
        "MFA_REQUEST_READ_TIMEOUT_SECONDS": "300",
    }
    minted = subprocess.run(  # noqa: S603 - this interpreter and the project's CLI
        _cli("dev-token", "--sub", "bench-shed"),
        env=environment,
        cwd=code,
        check=False,
        capture_output=True,
        text=True,
    )
    if minted.returncode != 0:
        raise SystemExit(f"{name}: dev-token failed: {minted.stderr}")
    token = minted.stdout.strip()
    with (data / "service.log").open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - this interpreter and the project's CLI
            _cli("serve", "--port", str(port), "--workers", "1"),
            env=environment,
            cwd=code,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health/live").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{name} did not start; see {data / 'service.log'}")
                time.sleep(0.2)
            yield Served(name, port, process.pid, token)
        finally:
            process.terminate()
            process.wait(timeout=20)


@contextmanager
def _held_slot(served: Served) -> Iterator[None]:
    """A POST whose body never comes: it holds the worker's only slot."""
    connection = socket.create_connection(("127.0.0.1", served.port))
    connection.sendall(_verify_headers(served.token))
    try:
        deadline = time.monotonic() + 30
        while httpx.get(f"http://127.0.0.1:{served.port}/settings/MfaSecret").status_code != 503:
            if time.monotonic() > deadline:
                raise SystemExit(f"{served.name}: the held request never took the slot")
            time.sleep(0.05)
        yield
    finally:
        connection.close()


def _verify_headers(token: str) -> bytes:
    """A ``POST /mfa/verify``'s request line and headers, for ``VERIFY_BODY``."""
    return (
        f"POST /mfa/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(VERIFY_BODY)}\r\n\r\n"
    ).encode()


def _request(served: Served, shed: bool) -> bytes:
    if not shed:
        return b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    return _verify_headers(served.token) + VERIFY_BODY


async def _one_connection(port: int, request: bytes, count: int, expected: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(expected):
                raise SystemExit(f"unexpected answer: {head[:80]!r}")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
    finally:
        writer.close()


def _cpu_per_answer_us(served: Served, shed: bool, requests: int) -> float:
    expected = b"HTTP/1.1 503" if shed else b"HTTP/1.1 200"
    request = _request(served, shed)
    per_connection = requests // CONNECTIONS

    async def load() -> None:
        await asyncio.gather(
            *(
                _one_connection(served.port, request, per_connection, expected)
                for _ in range(CONNECTIONS)
            )
        )

    before = procstat.cpu_seconds(served.pid) or 0.0
    asyncio.run(load())
    after = procstat.cpu_seconds(served.pid) or 0.0
    return (after - before) / (per_connection * CONNECTIONS) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-ref", default="main")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    runs: dict[str, dict[str, list[float]]] = {
        side: {"health": [], "shed": []} for side in ("base", "head")
    }
    with tempfile.TemporaryDirectory(prefix="bench-shed-") as work, ExitStack() as stack_:
        base_code = extract_code(args.base_ref, Path(work) / "code", CODE)
        sides = []
        for name, code in (("base", base_code), ("head", ROOT)):
            data = Path(work) / name
            data.mkdir()
            served = stack_.enter_context(_serve(name, code, data))
            stack_.enter_context(_held_slot(served))
            sides.append(served)
        for served in sides:  # warm-up, not counted
            _cpu_per_answer_us(served, shed=False, requests=400)
            _cpu_per_answer_us(served, shed=True, requests=400)
        for round_number in range(args.rounds):
            for served in sides:
                for scenario in ("health", "shed"):
                    cpu = _cpu_per_answer_us(served, scenario == "shed", args.requests)
                    runs[served.name][scenario].append(cpu)
            print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)
    _report(args, runs)


def _report(args: argparse.Namespace, runs: dict[str, dict[str, list[float]]]) -> None:
    median = {
        side: {scenario: statistics.median(values) for scenario, values in scenarios.items()}
        for side, scenarios in runs.items()
    }
    print(
        f"Service CPU per answer (µs), medians of {args.rounds} alternating rounds of "
        f"{args.requests} requests over {CONNECTIONS} keep-alive connections, one worker:\n"
    )
    print(f"| | base {args.base_ref} | head | head / base |")
    print("|---|--:|--:|--:|")
    for scenario, label in (("health", "GET /health/live"), ("shed", "shed 503")):
        before, after = median["base"][scenario], median["head"][scenario]
        print(f"| {label} | {before:.0f} | {after:.0f} | x{after / before:.2f} |")
    base_ratio = median["base"]["shed"] / median["base"]["health"]
    head_ratio = median["head"]["shed"] / median["head"]["health"]
    change = head_ratio / base_ratio
    print(f"| shed 503, multiple of health | {base_ratio:.2f} | {head_ratio:.2f} | x{change:.2f} |")
    print("\nEvery round, shed / health µs (base; head):")
    for index in range(args.rounds):
        base = (runs["base"]["shed"][index], runs["base"]["health"][index])
        head = (runs["head"]["shed"][index], runs["head"]["health"][index])
        print(f"  {base[0]:.0f} / {base[1]:.0f};  {head[0]:.0f} / {head[1]:.0f}")


if __name__ == "__main__":
    main()
