"""One side of ``bench/vault_client.py``: transit calls through whichever product code is first on
``PYTHONPATH`` (the head's or the base's), measured in this process. Prints one JSON object.

Run by path, not as a module, so that the working copy's packages do not shadow the base's.
Both client APIs are reached through ``importlib``: the base's (hvac in worker threads,
``VaultSession`` + ``VaultGateway``) and the head's (``VaultClient`` on httpx).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

BURST = 16


async def _measure(calls: int, call: Callable[[], Awaitable[object]]) -> dict[str, float]:
    for _ in range(20):
        await call()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        await call()
    return {
        "cpu_ms": (time.process_time() - cpu) * 1000 / calls,
        "wall_ms": (time.perf_counter() - wall) * 1000 / calls,
    }


def _cipher(addr: str, token: str, key: str) -> tuple[Any, Callable[[], Awaitable[None]], str]:
    """The product's transit cipher, a function that closes its client, and which API it is."""
    cipher_module = importlib.import_module("adapters.vault.transit_cipher")
    try:
        gateway_module = importlib.import_module("adapters.vault.gateway")
    except ImportError:
        client_module = importlib.import_module("adapters.vault.client")
        settings_module = importlib.import_module("adapters.vault.settings")
        settings = settings_module.VaultSettings(addr, settings_module.TokenAuth(token))
        client = client_module.VaultClient(settings)
        return cipher_module.VaultTransitCipher(client, key=key), client.aclose, "httpx async"
    old_client = importlib.import_module("adapters.vault.client")
    session = old_client.VaultSession(old_client.VaultSettings(addr, old_client.TokenAuth(token)))

    async def close() -> None:
        session.close()

    cipher = cipher_module.VaultTransitCipher(gateway_module.VaultGateway(session), key=key)
    return cipher, close, "hvac + urllib3 in threads"


async def _run(addr: str, token: str, key: str, calls: int) -> dict[str, Any]:
    secret_module = importlib.import_module("domain.secret")
    ports = importlib.import_module("application.ports.secret_cipher")
    cipher, close, api = _cipher(addr, token, key)
    try:
        secret = secret_module.TotpSecret.from_entropy(os.urandom(20))
        owner = ports.SecretOwner("bench-vault-client", uuid.uuid4())
        sealed = await cipher.encrypt(secret, owner)

        async def decrypt() -> None:
            await cipher.decrypt(sealed, owner)

        async def burst() -> None:
            await asyncio.gather(*(cipher.decrypt(sealed, owner) for _ in range(BURST)))

        sequential = await _measure(calls, decrypt)
        concurrent = await _measure(max(1, calls // BURST), burst)
        return {
            "api": api,
            "decrypt": sequential,
            "burst": {"cpu_ms": concurrent["cpu_ms"] / BURST, "wall_ms": concurrent["wall_ms"]},
        }
    finally:
        await close()


def main() -> None:
    addr, token, key, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    loop = sys.argv[5] if len(sys.argv) > 5 else "asyncio"
    run = importlib.import_module("uvloop").run if loop == "uvloop" else asyncio.run
    print(json.dumps(run(_run(addr, token, key, calls))))


if __name__ == "__main__":
    main()
