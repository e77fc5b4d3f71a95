"""A real browser against the real service: Debian's Chromium driven by Playwright for Python.

The browser is the system's (``/usr/bin/chromium``, or ``MFA_TEST_CHROMIUM``); Playwright never
downloads one. The service runs as ``mfa-service serve`` in the development profile with the
reference page on. Screenshots go to ``tests/browser/artifacts/`` (git-ignored), one folder a test.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from adapters.jwt.dev_issuer import DevelopmentIssuer
from entrypoints.settings import DEFAULT_AUDIENCE, DEVELOPMENT_TOKEN_ISSUER
from tests.support.processes import running_service

CHROMIUM = Path(os.environ.get("MFA_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"


@dataclass(frozen=True, slots=True)
class Service:
    base_url: str
    issuer: DevelopmentIssuer

    def token(self, subject: str, name: str) -> str:
        return self.issuer.mint(
            subject, now=int(time.time()), extra_claims={"preferred_username": name}
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Module-scoped: while Playwright's sync API runs, its event loop is the thread's running loop,
    which the asyncio tests of later modules cannot share."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: scripts/system-deps.sh installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    data_dir = tmp_path_factory.mktemp("browser-service")
    environment = {
        "MFA_ENV": "development",
        "MFA_DATA_DIR": str(data_dir),
        "MFA_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'mfa.sqlite3'}",
        "MFA_LOCAL_KEY_FILE": str(data_dir / "secret-encryption.key"),
        "MFA_ISSUER": "Example Bank",
        "MFA_UI_ENABLED": "true",
        "MFA_LOG_LEVEL": "WARNING",
    }
    with running_service(environment, log_file=data_dir / "service.log") as base_url:
        issuer = DevelopmentIssuer.load_or_create(
            data_dir / "dev-issuer", DEVELOPMENT_TOKEN_ISSUER, DEFAULT_AUDIENCE
        )
        yield Service(base_url, issuer)


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


class ConsoleLog:
    """What the page printed to its console, to find Content-Security-Policy refusals."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("console", self._record)

    def _record(self, message: ConsoleMessage) -> None:
        self.messages.append(f"{message.type}: {message.text}")

    def csp_refusals(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m]
