"""The Vault client before and after, in one run: a transit decrypt's service CPU per call.

    uv run python -m bench.vault_client [--base-ref c968e03] [--rounds 5] [--calls 400] [--loop uvloop]

Starts an OpenBao dev server, creates the transit key, extracts the base commit's ``domain``,
``application`` and ``adapters`` into a temporary folder (``git archive``), and runs
``bench/vault_client_worker.py`` alternately on the base's code and on the working copy's
(A B A B ...), each time in a fresh process. Each run measures sequential decrypts and bursts of 16
concurrent decrypts; CPU is that process's (all threads), i.e. the service's share, not Vault's.
Prints a Markdown table of the medians and the ratio head / base.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Final

from adapters.vault.operator_client import build_operator_client
from adapters.vault.settings import TokenAuth, VaultSettings
from adapters.vault.setup import ensure_transit_key
from bench import stack
from bench.checkout import extract_code

ROOT: Final = Path(__file__).resolve().parent.parent
WORKER: Final = Path(__file__).resolve().with_name("vault_client_worker.py")
KEY: Final = "bench-vault-client"


def _side(code: Path, vault: stack.Vault, calls: int, loop: str) -> dict[str, Any]:
    answer = subprocess.run(  # noqa: S603 - this interpreter and the worker script
        [sys.executable, str(WORKER), vault.addr, vault.root_token, KEY, str(calls), loop],
        env={**stack.clean_environment(), "PYTHONPATH": str(code)},
        cwd=code,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    result: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])
    return result


def _median(runs: list[dict[str, Any]], part: str, figure: str) -> float:
    return statistics.median(float(run[part][figure]) for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-ref", default="c968e03")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument(
        "--loop", choices=("asyncio", "uvloop"), default="asyncio", help="uvloop: as the service"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-vault-") as work:
        base = extract_code(
            args.base_ref, Path(work) / "base", ("domain", "application", "adapters")
        )
        with stack.vault_dev_server(Path(work)) as vault:
            settings = VaultSettings(vault.addr, TokenAuth(vault.root_token))
            ensure_transit_key(build_operator_client(settings), key=KEY)
            runs: dict[str, list[dict[str, Any]]] = {"base": [], "head": []}
            for round_number in range(args.rounds):
                for name, code in (("base", base), ("head", ROOT)):
                    runs[name].append(_side(code, vault, args.calls, args.loop))
                print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)
    base_api, head_api = runs["base"][0]["api"], runs["head"][0]["api"]
    print(
        f"Transit decrypt, service CPU per call, medians of {args.rounds} alternating runs "
        f"of {args.calls} calls on {args.loop} (OpenBao {vault.version}):\n"
    )
    print(f"| | base {args.base_ref} ({base_api}) | head ({head_api}) | head / base |")
    print("|---|--:|--:|--:|")
    for part, label in (("decrypt", "one at a time"), ("burst", "16 concurrent")):
        for figure, unit in (("cpu_ms", "CPU ms per decrypt"), ("wall_ms", "wall ms")):
            if part == "burst" and figure == "wall_ms":
                unit = "wall ms per burst"
            before, after = _median(runs["base"], part, figure), _median(runs["head"], part, figure)
            print(f"| {label}: {unit} | {before:.3f} | {after:.3f} | x{after / before:.2f} |")
    print("\nEvery run, CPU ms per decrypt one at a time (base / head):")
    for before_run, after_run in zip(runs["base"], runs["head"], strict=True):
        print(f"  {before_run['decrypt']['cpu_ms']:.3f} / {after_run['decrypt']['cpu_ms']:.3f}")


if __name__ == "__main__":
    main()
