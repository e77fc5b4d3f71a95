"""The shed answer, prebuilt before routing, is the very answer Litestar makes of the ``overloaded``
problem (status, headers, body), and each one is counted in ``/metrics``.

The app is the real one with two routes added under ``/health/`` (public, so no token is needed):
one raises ``Overloaded`` through Litestar's error handling, as the shedding middleware used to;
one holds a request in flight until the test lets it go, filling a limit of 1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar, get
from litestar.background_tasks import BackgroundTask
from prometheus_client import REGISTRY

from entrypoints.http.app import HttpOptions, build_http_app
from entrypoints.http.load_shedding import with_load_shedding
from entrypoints.http.problems import Overloaded

ORIGIN = "https://ui.example.test"
REQUEST_ID = "gateway-request-0001"


@asynccontextmanager
async def _no_services(_: Litestar) -> AsyncIterator[None]:
    yield


class _Held:
    def __init__(self) -> None:
        self.admitted = asyncio.Event()
        self.answered = asyncio.Event()
        self.released = asyncio.Event()

    async def work_after_the_answer(self) -> None:
        self.answered.set()
        await self.released.wait()


def _app(held: _Held, cors_origins: tuple[str, ...]) -> Litestar:
    app = build_http_app(
        HttpOptions(admin_scope="mfa:admin", cors_origins=cors_origins), _no_services
    )

    @get("/health/test-overloaded", sync_to_thread=False)
    def raise_overloaded() -> None:
        raise Overloaded

    @get("/health/test-hold")
    async def hold() -> str:
        held.admitted.set()
        await held.released.wait()
        return "released"

    @get("/health/test-answer-then-work", background=BackgroundTask(held.work_after_the_answer))
    async def answer_then_work() -> str:
        return "answered"

    app.register(raise_overloaded)
    app.register(hold)
    app.register(answer_then_work)
    return app


def _client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=cast(Any, app), client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@asynccontextmanager
async def _place_taken(client: httpx.AsyncClient, held: _Held) -> AsyncIterator[None]:
    """A limit of 1 filled, for the block's duration, by a request the app holds."""
    holding = asyncio.create_task(client.get("/health/test-hold"))
    await held.admitted.wait()
    try:
        yield
    finally:
        held.released.set()
        assert (await holding).status_code == 200


def _shed_count(method: str) -> float:
    labels = {"method": method, "path": "(shed)", "status_code": "503"}
    return REGISTRY.get_sample_value("mfa_requests_total", labels) or 0.0


@pytest.mark.parametrize("origin", [ORIGIN, ""], ids=["origin", "empty-origin"])
@pytest.mark.parametrize("cors_origins", [(), (ORIGIN,)], ids=["no-cors", "cors"])
async def test_a_shed_answer_is_litestars_overloaded_problem_and_is_counted(
    cors_origins: tuple[str, ...], origin: str
) -> None:
    held = _Held()
    litestar = _app(held, cors_origins)
    shedding = with_load_shedding(litestar, limit=1)
    headers = {"Origin": origin, "X-Request-Id": REQUEST_ID}
    async with _client(shedding) as client:
        through_litestar = await client.get("/health/test-overloaded", headers=headers)
        async with _place_taken(client, held):
            before = _shed_count("POST")
            shed = await client.post("/mfa/verify", json={"code": "123456"}, headers=headers)
            live = await client.get("/health/live")
    assert shed.status_code == through_litestar.status_code == 503
    assert shed.headers.multi_items() == through_litestar.headers.multi_items()
    assert shed.content == through_litestar.content
    assert shed.json()["type"] == "urn:mfa-service:problem:overloaded"
    assert shed.headers["Retry-After"] == "1"
    assert shed.headers["X-Request-Id"] == REQUEST_ID
    assert ("Access-Control-Allow-Origin" in shed.headers) == bool(cors_origins and origin)
    assert _shed_count("POST") == before + 1
    assert live.status_code == 200


async def test_a_request_frees_its_place_once_its_answer_is_sent() -> None:
    """A client may send its next request as soon as it has its answer, while the app still
    finishes the first (a background task here; the access line and metrics in the service)."""
    held = _Held()
    shedding = with_load_shedding(_app(held, ()), limit=1)
    async with _client(shedding) as client:
        finishing = asyncio.create_task(client.get("/health/test-answer-then-work"))
        await held.answered.wait()
        next_request = await client.get("/settings/MfaSecret")
        held.released.set()
        assert (await finishing).status_code == 200
    assert next_request.status_code == 401


async def test_a_shed_answer_without_an_incoming_id_gets_its_own() -> None:
    held = _Held()
    shedding = with_load_shedding(_app(held, ()), limit=1)
    async with _client(shedding) as client, _place_taken(client, held):
        first = await client.get("/settings/MfaSecret")
        second = await client.get("/settings/MfaSecret")
    assert first.status_code == second.status_code == 503
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


async def test_health_and_metrics_are_never_shed_however_their_path_is_spelt() -> None:
    """Litestar routes a trailing or doubled slash to the same handler: never shed either."""
    held = _Held()
    shedding = with_load_shedding(_app(held, ()), limit=1)
    spellings = ["/health/live", "/health/live/", "/health//live", "/metrics/"]
    async with _client(shedding) as client, _place_taken(client, held):
        answers = [await client.get(path) for path in spellings]
        shed = await client.get("/health/live/x")
    assert [answer.status_code for answer in answers] == [200] * len(spellings)
    assert shed.status_code == 503


async def test_a_cors_preflight_is_never_shed() -> None:
    held = _Held()
    shedding = with_load_shedding(_app(held, (ORIGIN,)), limit=1)
    async with _client(shedding) as client, _place_taken(client, held):
        preflight = await client.options(
            "/mfa/verify", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
        )
        shed = await client.options("/mfa/verify")
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert shed.status_code == 503
