"""HEAD answers as GET does, without the content (RFC 9110 9.3.2), on every resource that has GET."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from adapters.jwt.dev_issuer import DevelopmentIssuer
from entrypoints.composition import Overrides, create_app
from entrypoints.http.head_requests import with_head_as_get
from entrypoints.settings import Settings
from tests.contract.http.api import bearer, enroll
from tests.support.in_process import serve_in_process

Client = httpx.AsyncClient

CHANGES_BETWEEN_CALLS = {"/metrics"}
"""Its content grows with every request, so its length differs from one call to the next."""


@pytest.fixture
def adapter_set() -> str:
    """Embedded only: HEAD is decided before any adapter runs."""
    return "embedded"


@pytest.fixture
async def served(
    settings: Settings, overrides: Overrides, issuer: DevelopmentIssuer
) -> AsyncIterator[Client]:
    """The app inside the wrapper the served process puts around it (``entrypoints.asgi``)."""
    app = create_app(settings, overrides)
    async with serve_in_process(app, with_head_as_get(app)) as client:
        yield client


def _concrete(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], template)


async def test_every_get_route_answers_head_with_the_same_status_and_headers_and_no_body(
    served: Client, token_for: Callable[..., str]
) -> None:
    token = token_for("alice")
    enrollment = await enroll(served, token)
    document: dict[str, Any] = (await served.get("/schema/openapi.json")).json()
    values = {"enrollment_id": enrollment["enrollmentId"], "user_id": "alice"}
    paths = [
        _concrete(template, values)
        for template, operations in document["paths"].items()
        if "get" in operations
    ] + ["/metrics", "/schema/openapi.json", "/schema"]
    assert len(paths) > 8, paths

    for path in paths:
        got = await served.get(path, headers=bearer(token))
        head = await served.head(path, headers=bearer(token))

        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        different = {"x-request-id", "date"} | (
            {"content-length"} if path in CHANGES_BETWEEN_CALLS else set()
        )
        assert {k: v for k, v in head.headers.items() if k not in different} == {
            k: v for k, v in got.headers.items() if k not in different
        }, path


async def test_head_where_there_is_no_get_is_405_and_allow_lists_head_beside_get(
    served: Client,
) -> None:
    only_post = await served.head("/mfa/verify")
    only_get = await served.put("/health/live")

    assert only_post.status_code == 405
    assert only_post.content == b""
    assert "HEAD" not in only_post.headers["allow"]
    assert {m.strip() for m in only_get.headers["allow"].split(",")} >= {"GET", "HEAD"}


async def test_a_head_request_is_counted_as_head(served: Client) -> None:
    def count(metrics: str) -> float:
        found = re.search(
            r'^mfa_requests_total\{method="HEAD",path="/health/live",status_code="200"\} (\S+)$',
            metrics,
            re.MULTILINE,
        )
        return float(found.group(1)) if found else 0.0

    before = count((await served.get("/metrics")).text)
    await served.head("/health/live")
    after = count((await served.get("/metrics")).text)

    assert after == before + 1
