"""The reference page /ui/enroll in Chromium: the whole journey at desktop and phone sizes.

The QR code is read from a screenshot of the page by two independent decoders (zxing-cpp, zbarimg);
the codes are the test's own RFC 6238 ones; axe-core checks WCAG 2.x A and AA at every step; no script
or style is refused by the Content-Security-Policy, and an injected inline script does not run.
"""

from __future__ import annotations

import io
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ConsoleLog, Service
from tests.contract.http.totp import Authenticator

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
WCAG_A_AND_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SIZES = {"desktop": (1280, 900), "phone": (320, 720)}
TOKEN_KEY = "mfa-service.accessToken"


def _accessibility_violations(page: Page) -> list[dict[str, Any]]:
    page.evaluate(AXE)
    violations: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" ")),
            }));
        }""",
        WCAG_A_AND_AA,
    )
    return violations


def _step(page: Page, artifacts: Path, name: str) -> None:
    """A screenshot of the step, then axe-core and the width check on it."""
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    assert _accessibility_violations(page) == [], name
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] if page.viewport_size else True, (name, width)


def _qr_texts_in_screenshot(page: Page, artifacts: Path) -> tuple[list[str], list[str]]:
    """What zxing-cpp and zbarimg read in a screenshot of the page, at device scale 1."""
    page.locator("#qr").scroll_into_view_if_needed()
    screenshot = artifacts / "02b-qr-as-seen.png"
    png = page.screenshot(path=str(screenshot))
    by_zxing = [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    zbar = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(screenshot)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    return by_zxing, zbar.stdout.decode().splitlines()


def _open_signed_in(page: Page, service: Service, token: str) -> None:
    """As the bank's front end would: the token in sessionStorage on the same origin, then the page."""
    page.goto(f"{service.base_url}/health/live")
    page.evaluate("([key, token]) => sessionStorage.setItem(key, token)", [TOKEN_KEY, token])
    page.goto(f"{service.base_url}/ui/enroll")


@pytest.mark.parametrize("size", SIZES)
def test_the_whole_journey_in_a_real_browser(
    browser: Browser, service: Service, artifacts: Path, size: str
) -> None:
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=1,
        has_touch=size == "phone",
        accept_downloads=True,
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service.base_url)
    page = context.new_page()
    console = ConsoleLog(page)
    page.set_default_timeout(60_000)
    user = f"browser-{size}"
    _open_signed_in(page, service, service.token(user, f"{user}@example.com"))

    expect(page.locator("#step-start")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None, "token left in storage"
    assert "token" not in page.url
    _step(page, artifacts, "01-start")

    page.fill("#device-name", f"{size.title()} phone")
    with page.expect_response(lambda r: r.url.endswith("/settings/MfaSecret")) as started:
        page.click("text=Start setup")
    enrollment = started.value.json()
    app = Authenticator.from_enrollment(enrollment)
    expect(page.locator("#qr")).to_be_visible()
    expect(page.locator("#secret")).to_have_text(enrollment["secretGroups"])
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^(9|10):\d\d$"))
    for name in enrollment["supportedApps"]:
        expect(page.locator("#apps")).to_contain_text(name)
    assert page.get_attribute("#code", "inputmode") == "numeric"
    assert page.get_attribute("#code", "autocomplete") == "one-time-code"
    _step(page, artifacts, "02-scan")
    assert _qr_texts_in_screenshot(page, artifacts) == ([enrollment["otpauthUri"]],) * 2

    page.click("text=Copy key")
    expect(page.locator("#status")).to_have_text(re.compile("Key copied"))
    assert page.evaluate("navigator.clipboard.readText()") == enrollment["secret"]

    page.fill("#code", app.wrong_code(time.time()))
    page.click("#confirm-form button")
    expect(page.locator("#alert")).to_have_text(re.compile(r"You have 4 attempts left\.$"))
    _step(page, artifacts, "03-wrong-code")

    page.fill("#code", app.code(time.time(), steps=4))
    page.click("#confirm-form button")
    expect(page.locator("#alert")).to_have_text(
        re.compile(r"clock seems to be about 2 minutes ahead.*3 attempts left", re.S)
    )

    page.fill("#code", app.code(time.time()))
    page.click("#confirm-form button")
    expect(page.locator("#step-recovery")).to_be_visible()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    _step(page, artifacts, "04-recovery-codes")
    with page.expect_download() as download:
        page.click("#download")
    saved = Path(download.value.path()).read_text()
    assert all(code in saved for code in codes)

    page.click("text=I have saved them")
    expect(page.locator("#authenticators li")).to_have_count(1)
    expect(page.locator("#authenticators li .name")).to_have_text(f"{size.title()} phone")
    _step(page, artifacts, "05-authenticators")

    page.click(f"[aria-label='Rename {size.title()} phone']")
    page.fill("#authenticators input", "Work phone")
    page.click("text=Save name")
    expect(page.locator("#authenticators li .name")).to_have_text("Work phone")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[aria-label='Remove Work phone']")
    expect(page.locator("#step-up")).to_be_visible()
    _step(page, artifacts, "06-step-up")
    page.fill("#step-up-code", app.code(time.time(), steps=1))
    page.click("#step-up-form button[type=submit]")
    expect(page.locator("#status")).to_have_text("Work phone was removed.")
    expect(page.locator("#authenticators li")).to_have_count(0)
    expect(page.locator("#step-start")).to_be_visible()
    _step(page, artifacts, "07-removed")

    assert console.csp_refusals() == []
    context.close()


def test_a_pasted_token_works_and_an_expired_session_asks_again(
    browser: Browser, service: Service, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 800, "height": 800}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{service.base_url}/ui/enroll")

    expect(page.locator("#step-token")).to_be_visible()
    _step(page, artifacts, "01-token")
    page.fill("#token", "not-a-token")
    page.click("text=Continue")
    expect(page.locator("#alert")).to_have_text("Your session has ended. Sign in again.")
    expect(page.locator("#step-token")).to_be_visible()

    page.fill("#token", service.token("browser-pasted", "pasted@example.com"))
    page.click("text=Continue")
    expect(page.locator("#step-start")).to_be_visible()
    context.close()


def test_the_csp_stops_inline_script(browser: Browser, service: Service) -> None:
    context = browser.new_context()
    page = context.new_page()
    console = ConsoleLog(page)
    response = page.goto(f"{service.base_url}/ui/enroll")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]

    ran = page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true";
            document.body.appendChild(script);
            return window.inlineRan === true;
        }"""
    )

    assert ran is False
    assert console.csp_refusals() != [], "Chromium reports the refused inline script"
    context.close()


def test_the_api_viewer_renders_offline_under_its_csp(
    browser: Browser, service: Service, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console = ConsoleLog(page)
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url) if not r.url.startswith((service.base_url, "data:")) else None
        ),
    )
    page.set_default_timeout(60_000)

    page.goto(f"{service.base_url}/schema")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("MFA service")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    page.screenshot(path=str(artifacts / "api-viewer.png"))
    assert outside == []
    assert console.csp_refusals() == []
    context.close()
