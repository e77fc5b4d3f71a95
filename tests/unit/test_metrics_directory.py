"""serve's metrics directory for several workers: fresh, or the operator's emptied of old counts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from entrypoints.metrics_directory import MULTIPROCESS_VARIABLE, shared_metrics


def test_several_workers_get_a_fresh_directory_removed_afterwards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROCESS_VARIABLE, raising=False)
    with shared_metrics(workers=2):
        directory = Path(os.environ[MULTIPROCESS_VARIABLE])
        assert directory.is_dir() and not any(directory.iterdir())
    assert MULTIPROCESS_VARIABLE not in os.environ
    assert not directory.exists()


def test_the_operators_directory_is_kept_without_an_earlier_runs_counts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "counter_1234.db").write_bytes(b"old counts")
    (tmp_path / "README").write_text("not ours")
    monkeypatch.setenv(MULTIPROCESS_VARIABLE, str(tmp_path))
    with shared_metrics(workers=2):
        assert os.environ[MULTIPROCESS_VARIABLE] == str(tmp_path)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["README"]
    assert tmp_path.is_dir()


def test_one_worker_needs_no_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROCESS_VARIABLE, raising=False)
    with shared_metrics(workers=1):
        assert MULTIPROCESS_VARIABLE not in os.environ
