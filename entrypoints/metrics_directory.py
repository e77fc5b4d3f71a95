"""Where the worker processes of ``mfa-service serve`` keep the metrics they share."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_metrics(workers: int) -> Iterator[None]:
    """With several workers, a fresh directory in ``PROMETHEUS_MULTIPROC_DIR`` for the block (the
    workers inherit it), removed afterwards, so that each scrape adds up every worker's counts.

    A directory the operator set is used as it is and kept; prometheus_client expects it emptied
    between runs. One worker needs none: its own registry is the whole truth.
    """
    if workers == 1 or os.environ.get(MULTIPROCESS_VARIABLE):
        yield
        return
    directory = tempfile.mkdtemp(prefix="mfa-service-metrics-")
    os.environ[MULTIPROCESS_VARIABLE] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_VARIABLE]
        shutil.rmtree(directory, ignore_errors=True)
