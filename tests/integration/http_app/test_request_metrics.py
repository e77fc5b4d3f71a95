"""GET /metrics: Prometheus text format, by route template and status, without identifiers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
import pytest

from tests.contract.http.api import bearer, enroll


@pytest.fixture
def adapter_set() -> str:
    """Embedded only: the request counter is the same on every adapter set."""
    return "embedded"


Client = httpx.AsyncClient

_SAMPLE = re.compile(r"^mfa_requests_total\{(?P<labels>.*)\} (?P<value>\S+)$", re.MULTILINE)


def _count(metrics: str, method: str, path: str, status: int) -> float:
    """The request counter of one route, method and status (0 when there is none yet)."""
    for sample in _SAMPLE.finditer(metrics):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', sample["labels"]))
        if labels == {"method": method, "path": path, "status_code": str(status)}:
            return float(sample["value"])
    return 0.0


async def test_metrics_need_no_token_and_are_prometheus_text(client: Client) -> None:
    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert response.headers["content-type"].count("charset=") == 1
    assert "# TYPE mfa_requests_total counter" in response.text
    assert "# TYPE mfa_request_duration_seconds histogram" in response.text


async def test_each_answer_counts_with_its_route_template_and_the_status_sent(
    client: Client, token_for: Callable[..., str]
) -> None:
    token = token_for("alice")
    template = "/settings/MfaSecret/{enrollment_id}"
    expected = [
        ("POST", "/settings/MfaSecret", 200),
        ("GET", template, 200),
        ("GET", template, 404),
        ("POST", "/mfa/verify", 401),
        ("GET", "(unmatched)", 404),
        ("DELETE", "(unmatched)", 405),
        ("OTHER", "(unmatched)", 405),
    ]
    before = (await client.get("/metrics")).text

    enrollment = await enroll(client, token)
    answers = [
        await client.get(
            f"/settings/MfaSecret/{enrollment['enrollmentId']}", headers=bearer(token)
        ),
        await client.get(f"/settings/MfaSecret/{uuid.uuid4()}", headers=bearer(token)),
        await client.post("/mfa/verify", json={"code": "123456"}),
        await client.get(f"/no-such-route/{uuid.uuid4()}"),
        await client.delete("/mfa/verify"),
        await client.request("BREW", "/mfa/verify"),
    ]
    after = (await client.get("/metrics")).text

    assert [answer.status_code for answer in answers] == [200, 404, 401, 404, 405, 405]
    for method, path, status in expected:
        assert _count(after, method, path, status) == _count(before, method, path, status) + 1
    assert _count(after, "GET", "/metrics", 200) == 0, "scrapes are not counted"
    for private in (enrollment["enrollmentId"], enrollment["secret"], "alice", token):
        assert private not in after
