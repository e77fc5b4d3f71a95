"""Which build runs: ``mfa_build_info{version, revision} 1``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from adapters.prometheus.dependencies import BUILD_INFO


def installed_version() -> str:
    try:
        return version("mfa-service")
    except PackageNotFoundError:
        return "unknown"


def publish_build_info(revision: str) -> None:
    BUILD_INFO.labels(installed_version(), revision).set(1)
