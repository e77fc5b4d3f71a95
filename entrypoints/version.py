"""The service's version: the installed package's, the one source for the CLI and the OpenAPI document."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

PACKAGE = "mfa-service"


def package_version() -> str:
    """The version of the installed ``mfa-service`` package (pyproject.toml's ``version``)."""
    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        return "0+unknown"
