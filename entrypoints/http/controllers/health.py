"""Liveness and readiness for the orchestrator."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from application.errors import DependencyUnavailable
from application.ports.readiness import ReadinessProbe
from entrypoints.http.dependencies import use_case
from entrypoints.http.draining import is_draining
from entrypoints.http.schemas import HealthStatus

PROBE_TIMEOUT_SECONDS = 2.0


class _Probes:
    """The readiness probes as one plain object: Litestar's signature model checks a dependency
    by its type, and cannot check a tuple of Protocol instances."""

    def __init__(self, probes: tuple[ReadinessProbe, ...]) -> None:
        self.probes = probes


async def _outcome(probe: ReadinessProbe) -> str:
    try:
        await asyncio.wait_for(probe.check(), PROBE_TIMEOUT_SECONDS)
    except (DependencyUnavailable, TimeoutError):
        return "unavailable"
    return "ok"


class HealthController(Controller):
    path = "/health"
    tags = ["Operations"]
    dependencies = {"readiness": use_case(lambda services: _Probes(services.readiness_probes))}

    @get("/live", summary="The process is up")
    async def live(self) -> HealthStatus:
        return HealthStatus(status="ok")

    @get(
        "/ready",
        summary="The database and the key service answer",
        description=(
            "200 when every dependency answers within 2 s, else 503 with Retry-After; 503 "
            '`"draining"` from the moment the process begins to stop (SIGTERM).'
        ),
        responses={
            503: ResponseSpec(
                data_container=HealthStatus,
                description="A dependency does not answer; see Retry-After and the checks.",
            )
        },
    )
    async def ready(
        self,
        request: Request[Any, Any, Any],
        readiness: NamedDependency[_Probes],
    ) -> Response[HealthStatus]:
        if is_draining(request):
            return Response(
                HealthStatus(status="draining"), status_code=503, headers={"Retry-After": "5"}
            )
        probes = readiness.probes
        results = await asyncio.gather(*(_outcome(probe) for probe in probes))
        checks = {probe.name: result for probe, result in zip(probes, results, strict=True)}
        if all(result == "ok" for result in results):
            return Response(HealthStatus(status="ok", checks=checks))  # type: ignore[arg-type]
        return Response(
            HealthStatus(status="unavailable", checks=checks),  # type: ignore[arg-type]
            status_code=503,
            headers={"Retry-After": "5"},
        )
