"""Liveness and readiness for the orchestrator."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from application.errors import DependencyUnavailable
from entrypoints.http.draining import is_draining
from entrypoints.http.schemas import HealthStatus
from entrypoints.http.services import services_of

PROBE_TIMEOUT_SECONDS = 2.0


@get("/health/live", summary="The process is up", tags=["Operations"])
async def live() -> HealthStatus:
    return HealthStatus(status="ok")


@get(
    "/health/ready",
    summary="The database and the key service answer",
    description=(
        "200 when every dependency answers within 2 s, else 503 with Retry-After; 503 "
        '`"draining"` from the moment the process begins to stop (SIGTERM).'
    ),
    tags=["Operations"],
    responses={
        503: ResponseSpec(
            data_container=HealthStatus,
            description="A dependency does not answer; see Retry-After and the checks.",
        )
    },
)
async def ready(request: Request[Any, Any, Any]) -> Response[HealthStatus]:
    if is_draining(request):
        return Response(
            HealthStatus(status="draining"), status_code=503, headers={"Retry-After": "5"}
        )
    probes = services_of(request.app).readiness_probes

    async def outcome(check: Any) -> str:
        try:
            await asyncio.wait_for(check(), PROBE_TIMEOUT_SECONDS)
        except (DependencyUnavailable, TimeoutError):
            return "unavailable"
        return "ok"

    results = await asyncio.gather(*(outcome(probe.check) for probe in probes))
    checks = {probe.name: result for probe, result in zip(probes, results, strict=True)}
    if all(result == "ok" for result in results):
        return Response(HealthStatus(status="ok", checks=checks))  # type: ignore[arg-type]
    return Response(
        HealthStatus(status="unavailable", checks=checks),  # type: ignore[arg-type]
        status_code=503,
        headers={"Retry-After": "5"},
    )
