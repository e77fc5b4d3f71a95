"""Where the worker processes of ``mfa-service serve`` keep the metrics they share."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_metrics(workers: int) -> Iterator[None]:
    """With several workers, a directory in ``PROMETHEUS_MULTIPROC_DIR`` for the block (the workers
    inherit it), so that each scrape adds up every worker's counts.

    A directory the operator set is kept, but the files an earlier run left are removed first: process
    ids repeat across container restarts, and old counts would merge into new ones. Otherwise a fresh
    directory is made and removed afterwards. One worker needs none: its own registry is the whole truth.
    """
    if workers == 1:
        yield
        return
    chosen = os.environ.get(MULTIPROCESS_VARIABLE)
    if chosen:
        for leftover in Path(chosen).glob("*.db"):
            leftover.unlink()
        yield
        return
    directory = tempfile.mkdtemp(prefix="mfa-service-metrics-")
    os.environ[MULTIPROCESS_VARIABLE] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_VARIABLE]
        shutil.rmtree(directory, ignore_errors=True)
