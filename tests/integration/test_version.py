"""One version, the package's: ``mfa-service --version`` and the OpenAPI document say the same."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from litestar.testing import TestClient

from entrypoints.composition import create_app
from entrypoints.settings import Settings
from tests.support.processes import cli


def test_the_command_prints_the_package_version() -> None:
    result = cli(["--version"], {})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mfa-service, version {version('mfa-service')}"


def test_the_openapi_document_carries_the_package_version(tmp_path: Path) -> None:
    settings = Settings.from_environment({"MFA_DATA_DIR": str(tmp_path)})
    with TestClient(create_app(settings)) as client:
        document = client.get("/schema/openapi.json").json()
    assert document["info"]["version"] == version("mfa-service")
