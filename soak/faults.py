"""The fault schedule: each fault at a known time, its window recorded for the report and the
invariants (a window ends when the fault is repaired; answers a few seconds later still count as
inside it, see ``SETTLE_SECONDS``)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from bench.stack import StackError, Vault
from soak.cluster import CHECK_INTERVAL_MS, RISE, Cluster
from soak.idp import IdentityProvider
from soak.postgres import PrivateCluster
from tests.support.delay_proxy import DelayProxy

STALL_SECONDS: Final = 3.0
SETTLE_SECONDS: Final = 5.0
"""After a repair: HAProxy's checks, pools reconnecting, Vault's first answers."""


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    start: float
    end: float

    @property
    def key(self) -> str:
        """Unique per window (names repeat from one round of faults to the next)."""
        return f"{self.name} at {self.start:.1f} s"

    def holds(self, at: float, latency: float = 0.0) -> bool:
        """Whether a request sent at ``at`` and answered ``latency`` later overlaps the window."""
        return self.start <= at + latency and at <= self.end + SETTLE_SECONDS


@dataclass
class Faults:
    cluster: Cluster
    postgres: PrivateCluster
    postgres_proxy: DelayProxy
    vault: Vault
    vault_log: Path
    vault_proxy: DelayProxy
    idp: IdentityProvider
    started: float
    windows: list[Window]

    def _timed(self, name: str, action: Callable[[], None]) -> None:
        start = time.time() - self.started
        action()
        self.windows.append(Window(name, start, time.time() - self.started))

    def _marked_up(self) -> None:
        time.sleep(RISE * CHECK_INTERVAL_MS / 1000 + 0.5)

    def rolling_restart(self) -> None:
        def roll() -> None:
            for replica in self.cluster.replicas:
                status = replica.terminate()
                if status != 0:
                    raise StackError(f"replica {replica.name} exited {status} on SIGTERM")
                replica.start()
                replica.wait_ready()
                self._marked_up()

        self._timed("rolling restart", roll)

    def kill_one(self) -> None:
        replica = self.cluster.replicas[len(self.cluster.replicas) // 2]

        def crash() -> None:
            replica.kill()
            replica.start()
            replica.wait_ready()
            self._marked_up()

        self._timed(f"kill -9 {replica.name}", crash)

    def postgres_restart(self) -> None:
        self._timed("Postgres restart", self.postgres.restart)

    def _unseal_key(self) -> str:
        found = re.search(r"Unseal Key: (\S+)", self.vault_log.read_text(errors="replace"))
        if found is None:
            raise StackError("the Vault dev server's log names no unseal key")
        return found.group(1)

    def vault_seal(self) -> None:
        key = self._unseal_key()
        headers = {"X-Vault-Token": self.vault.root_token}

        def seal_and_unseal() -> None:
            with httpx.Client(base_url=self.vault.addr, headers=headers, timeout=10) as client:
                client.put("/v1/sys/seal").raise_for_status()
                time.sleep(STALL_SECONDS)
                client.put("/v1/sys/unseal", json={"key": key}).raise_for_status()

        self._timed("Vault sealed", seal_and_unseal)

    def _stall(self, name: str, proxy: DelayProxy) -> None:
        def stall() -> None:
            proxy.delay = STALL_SECONDS
            time.sleep(STALL_SECONDS)
            proxy.delay = 0.0

        self._timed(name, stall)

    def postgres_stall(self) -> None:
        self._stall("Postgres stalled 3 s", self.postgres_proxy)

    def vault_stall(self) -> None:
        self._stall("Vault stalled 3 s", self.vault_proxy)

    def rotate_keys(self) -> None:
        self._timed("IdP keys rotated", self.idp.rotate)

    def schedule(self) -> list[Callable[[], None]]:
        """One round of every fault, in this order."""
        return [
            self.rolling_restart,
            self.rotate_keys,
            self.kill_one,
            self.postgres_restart,
            self.vault_seal,
            self.postgres_stall,
            self.vault_stall,
        ]
