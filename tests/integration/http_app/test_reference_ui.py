"""The reference page /ui/enroll: off by default; when on, static files under a strict CSP."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from litestar import Litestar

from entrypoints.http.page_policies import UI_POLICY
from entrypoints.http.reference_ui import PAGES
from tests.support.in_process import serve_in_process


@pytest.fixture
def adapter_set() -> str:
    """Embedded only: the reference page is the same on every adapter set."""
    return "embedded"


async def test_the_page_is_off_unless_enabled(app_with: Callable[..., Litestar]) -> None:
    async with serve_in_process(app_with()) as client:
        response = await client.get("/ui/enroll")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_page_and_its_assets_come_from_the_service_under_a_strict_csp(
    app_with: Callable[..., Litestar],
) -> None:
    async with serve_in_process(app_with(ui_enabled=True)) as client:
        page = await client.get("/ui/enroll")
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assets = [await client.get(source) for source in sources]
        missing = await client.get("/ui/assets/nothing.js")
        with_nul = await client.get("/ui/assets/enroll.js%00")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text == (PAGES / "enroll.html").read_text()
    assert page.headers["content-security-policy"] == UI_POLICY
    assert "frame-ancestors 'none'" in UI_POLICY
    assert "unsafe-inline" not in UI_POLICY
    assert sorted(sources) == ["/ui/assets/enroll.css", "/ui/assets/enroll.js"]
    assert [asset.status_code for asset in assets] == [200, 200]
    assert all(a.headers["content-security-policy"] == UI_POLICY for a in assets)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.headers["content-security-policy"] == UI_POLICY
    assert missing.headers["referrer-policy"] == "no-referrer"
    assert with_nul.status_code == 404
    assert with_nul.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("name", ["enroll.html"])
def test_the_page_has_no_inline_script_or_handler(name: str) -> None:
    html = (PAGES / name).read_text()

    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert re.search(r"\son[a-z]+=", html) is None
