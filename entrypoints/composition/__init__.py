"""The composition root: the only package that chooses adapters. Everything is built in the app's
lifespan, never at import time.

``adapters`` and ``token_verifiers`` open the configured adapters (I/O), ``wiring`` puts the use
cases on them (pure), ``outbox_loop`` and ``jobs`` are the background loop and the operator's jobs;
this module assembles them into the HTTP app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from litestar import Litestar
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor
from opentelemetry.trace import TracerProvider

from adapters.opentelemetry.export import tracer_provider_from_environment
from adapters.opentelemetry.traced_cipher import TracedCipher
from adapters.opentelemetry.traced_qr_renderer import TracedQrRenderer
from adapters.opentelemetry.traced_token_verifier import TracedTokenVerifier
from adapters.prometheus.build_info import installed_version, publish_build_info
from adapters.prometheus.business import PrometheusOperationalMetrics
from adapters.prometheus.dependencies import SPANS_DROPPED
from adapters.pyotp.generator import PyotpGenerator
from adapters.segno.renderer import SegnoQrRenderer
from adapters.system.clock import SystemClock
from application.event_records import EventRecords
from application.ports.check_reservations import CheckReservations
from application.ports.clock import Clock
from application.ports.code_acceptance import CodeAcceptance
from application.ports.enrollment_starts import EnrollmentStarts
from application.ports.notifications import Notifier
from application.ports.operational_metrics import OperationalMetrics
from application.ports.qr_renderer import QrRenderer
from application.ports.readiness import ReadinessProbe
from application.ports.secret_cipher import SecretCipher
from application.ports.token_verifier import TokenVerifier
from application.ports.unit_of_work import UnitOfWorkFactory
from entrypoints.composition.adapters import (
    open_cipher,
    open_database,
    open_notifier,
    pseudonym_key,
)
from entrypoints.composition.outbox_loop import outbox_loop
from entrypoints.composition.token_verifiers import open_token_verifier
from entrypoints.composition.wiring import Ports, wire_outbox, wire_services
from entrypoints.http.app import HttpOptions, build_http_app
from entrypoints.http.services import Services, keep_services
from entrypoints.settings import CipherKind, Settings
from entrypoints.startup_errors import StartupError, describe_cause

logger = logging.getLogger("mfa.composition")


@dataclass(frozen=True, slots=True)
class Overrides:
    """Adapters a test or an embedding program supplies instead of the configured ones."""

    unit_of_work: UnitOfWorkFactory | None = None
    readiness_probes: tuple[ReadinessProbe, ...] | None = None
    cipher: SecretCipher | None = None
    token_verifier: TokenVerifier | None = None
    qr_renderer: QrRenderer | None = None
    clock: Clock | None = None
    notifier: Notifier | None = None
    metrics: OperationalMetrics | None = None
    tracer_provider: TracerProvider | None = None
    """None: OpenTelemetry's global provider (``configure_tracing``)."""


def configure_tracing(environ: Mapping[str, str]) -> None:
    """OpenTelemetry for this process, from the standard ``OTEL_*`` variables: the global tracer
    provider, and spans with ``traceparent`` propagation for every httpx client (JWKS, webhook,
    Vault transit) and urllib3 pool (hvac). Export is off unless configured."""
    provider = tracer_provider_from_environment(environ, installed_version(), SPANS_DROPPED.inc)
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    URLLib3Instrumentor().instrument()


@asynccontextmanager
async def build_services(settings: Settings, overrides: Overrides) -> AsyncIterator[Services]:
    """Every adapter the settings choose, unless overridden, wired into the use cases, with the
    outbox loop running while the context is open."""
    async with AsyncExitStack() as stack:
        probes: list[ReadinessProbe] = []
        metrics = overrides.metrics or PrometheusOperationalMetrics()
        publish_build_info(settings.build_revision)
        tracer = trace.get_tracer("mfa", tracer_provider=overrides.tracer_provider)
        reservations: CheckReservations | None = None
        acceptance: CodeAcceptance | None = None
        starts: EnrollmentStarts | None = None
        if overrides.unit_of_work is not None:
            unit_of_work = overrides.unit_of_work
        else:
            database = await open_database(
                settings, stack, EventRecords(metrics), overrides.tracer_provider
            )
            unit_of_work = database.unit_of_work
            probes.append(database.probe)
            if database.statements is not None:
                reservations = database.statements.reservations
                acceptance = database.statements.acceptance
                starts = database.statements.starts
        if overrides.cipher is not None:
            cipher = overrides.cipher
        else:
            cipher, cipher_probe = await open_cipher(settings, stack)
            probes.extend([cipher_probe] if cipher_probe else [])
            if settings.cipher is CipherKind.VAULT:
                cipher = TracedCipher(cipher, "vault", tracer)
        ports = Ports(
            unit_of_work=unit_of_work,
            cipher=cipher,
            generator=PyotpGenerator(),
            qr_renderer=TracedQrRenderer(
                overrides.qr_renderer or SegnoQrRenderer.prepared(), tracer
            ),
            clock=overrides.clock or SystemClock(),
            token_verifier=TracedTokenVerifier(
                # time.time looked up here, at build time: tests substitute this module's ``time``
                overrides.token_verifier or await open_token_verifier(settings, stack, time.time),
                tracer,
            ),
            metrics=metrics,
            pseudonym_key=pseudonym_key(settings),
            readiness_probes=overrides.readiness_probes or tuple(probes),
            reservations=reservations,
            acceptance=acceptance,
            enrollment_starts=starts,
        )
        notifier = overrides.notifier or await open_notifier(settings, stack)
        await stack.enter_async_context(
            outbox_loop(wire_outbox(ports, notifier), settings.notify_interval_seconds)
        )
        yield wire_services(settings, ports)


def create_app(settings: Settings, overrides: Overrides | None = None) -> Litestar:
    """The HTTP app for ``settings``. Nothing is built until the app starts."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            try:
                services = await stack.enter_async_context(
                    build_services(settings, overrides or Overrides())
                )
            except Exception as error:
                log_startup_failure(error, settings.log_level)
                raise
            keep_services(app.state, services)
            yield

    return build_http_app(
        HttpOptions(
            admin_scope=settings.admin_scope,
            max_body_bytes=settings.max_body_bytes,
            cors_origins=settings.cors_origins,
            tracer_provider=(overrides or Overrides()).tracer_provider,
            ui_enabled=settings.ui_enabled,
        ),
        lifespan,
    )


def log_startup_failure(error: Exception, log_level: str) -> None:
    """One line that says what stopped the start; the traceback only at MFA_LOG_LEVEL=DEBUG."""
    reason = str(error) if isinstance(error, StartupError) else describe_cause(error)
    logger.error("cannot start: %s", reason, exc_info=error if log_level == "DEBUG" else None)
