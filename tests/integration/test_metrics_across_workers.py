"""With several workers, every scrape of GET /metrics adds up the business and dependency
metrics of all of them (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.support.processes import cli, running_service


def _sample(text: str, series: str) -> float:
    found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert found, f"{series} is not in the scrape"
    return float(found.group(1))


def test_every_scrape_counts_the_enrollments_of_every_worker(tmp_path: Path) -> None:
    environment = {
        "MFA_DATA_DIR": str(tmp_path / "var"),
        "MFA_ISSUER": "Example Bank",
        "MFA_BUILD_REVISION": "abc123",
    }
    with (
        running_service(environment, "--workers", "2", log_file=tmp_path / "s.log") as base_url,
        httpx.Client(base_url=base_url, timeout=10) as client,
    ):
        token = cli(["dev-token", "--sub", "alice"], environment).stdout.strip()
        for _ in range(8):
            response = client.post(
                "/settings/MfaSecret",
                json={"mfaMethod": "totp"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
        scrapes = [client.get("/metrics").text for _ in range(6)]

    started = 'mfa_enrollments_total{event="started"}'
    replaced = 'mfa_enrollments_total{event="replaced"}'
    encrypts = (
        'mfa_dependency_duration_seconds_count{dependency="sqlite",operation="insert enrollments"}'
    )
    assert [_sample(text, started) for text in scrapes] == [8.0] * 6
    assert [_sample(text, replaced) for text in scrapes] == [7.0] * 6
    assert [_sample(text, encrypts) for text in scrapes] == [8.0] * 6
    build = r'^mfa_build_info\{revision="abc123",version="[^"]+"\} 1\.0$'
    assert all(re.search(build, text, re.MULTILINE) for text in scrapes)
