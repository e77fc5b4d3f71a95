"""The composition root: the only module that chooses adapters. Everything is built in the app's
lifespan, never at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from litestar import Litestar
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor
from opentelemetry.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.introspection.answer import AnswerRules
from adapters.introspection.by_shape import JwtOrIntrospection
from adapters.introspection.cache import IntrospectionCache
from adapters.introspection.client import (
    ClientCredentials,
    ClientPrivateKey,
    ClientSecret,
    IntrospectionClient,
)
from adapters.introspection.client_key import load_client_key
from adapters.introspection.verifier import IntrospectionTokenVerifier
from adapters.jwt.caching_verifier import CachingTokenVerifier
from adapters.jwt.dev_issuer import DevelopmentIssuer
from adapters.jwt.jwks_source import JwksFileSource, JwksUrlSource
from adapters.jwt.verifier import JwtTokenVerifier
from adapters.local_cipher.cipher import LocalAesGcmCipher
from adapters.local_cipher.key_file import load_or_create_key_ring
from adapters.notifications.logging_notifier import LoggingNotifier
from adapters.notifications.webhook import WebhookNotifier
from adapters.opentelemetry.database import trace_engine
from adapters.opentelemetry.export import tracer_provider_from_environment
from adapters.opentelemetry.traced_cipher import TracedCipher
from adapters.opentelemetry.traced_qr_renderer import TracedQrRenderer
from adapters.opentelemetry.traced_token_verifier import TracedTokenVerifier
from adapters.prometheus.build_info import installed_version, publish_build_info
from adapters.prometheus.business import PrometheusOperationalMetrics
from adapters.prometheus.database import measure_engine
from adapters.prometheus.dependencies import SPANS_DROPPED
from adapters.prometheus.jwks import CountedJwksSource
from adapters.prometheus.measured_cipher import MeasuredCipher
from adapters.pyotp.generator import PyotpGenerator
from adapters.segno.renderer import SegnoQrRenderer
from adapters.sqlalchemy.engine import DatabaseLimits, create_engine
from adapters.sqlalchemy.migrations.runner import ensure_schema_is_current, upgrade
from adapters.sqlalchemy.postgres_checks import PostgresCheckReservations, PostgresCodeAcceptance
from adapters.sqlalchemy.readiness import DatabaseProbe
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from adapters.system.clock import SystemClock
from adapters.system.secret_file import load_or_create_secret, read_secret
from adapters.vault.binding_check import verify_owner_binding
from adapters.vault.client import VaultClient
from adapters.vault.operator_client import build_operator_client
from adapters.vault.probe import VaultProbe
from adapters.vault.settings import (
    AppRoleAuth,
    Credentials,
    KubernetesAuth,
    TokenAuth,
    TokenFileAuth,
    VaultSettings,
)
from adapters.vault.setup import (
    TransitKeyReport,
    ensure_transit_key,
    rotation_job_policy,
    service_policy,
)
from adapters.vault.transit_cipher import VaultTransitCipher
from application.agent import OperatorAtConsole, RecentSecondFactor
from application.errors import DependencyUnavailable
from application.event_records import EventRecords
from application.idempotency import IdempotencyGuard
from application.ports.check_reservations import CheckReservations
from application.ports.clock import Clock
from application.ports.code_acceptance import CodeAcceptance
from application.ports.notifications import Notifier
from application.ports.operational_metrics import OperationalMetrics
from application.ports.qr_renderer import QrRenderer
from application.ports.readiness import ReadinessProbe
from application.ports.secret_cipher import SecretCipher
from application.ports.token_verifier import TokenVerifier
from application.ports.unit_of_work import UnitOfWorkFactory
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.step_up import StepUp, StepUpPolicy
from application.use_cases.attempts import AttemptGate
from application.use_cases.check_reservations import TransactionalCheckReservations
from application.use_cases.confirm_enrollment import ConfirmEnrollment
from application.use_cases.deliver_notifications import DeliverNotifications
from application.use_cases.list_authenticators import GetAuthenticator, ListAuthenticators
from application.use_cases.measure_outbox_backlog import MeasureOutboxBacklog
from application.use_cases.purge_expired_enrollments import PurgeExpiredEnrollments
from application.use_cases.regenerate_recovery_codes import (
    GetRecoveryCodeStatus,
    RegenerateRecoveryCodes,
)
from application.use_cases.rename_authenticator import RenameAuthenticator
from application.use_cases.revoke_authenticator import RevokeAuthenticator
from application.use_cases.rewrap_secrets import RewrapSecrets
from application.use_cases.show_pending_enrollment import ShowPendingEnrollment
from application.use_cases.start_enrollment import EnrollmentSettings, StartEnrollment
from application.use_cases.verify_code import VerificationSettings, VerifyCode
from entrypoints.admin_services import AdminServices
from entrypoints.http.app import HttpOptions, build_http_app
from entrypoints.http.services import Services, keep_services
from entrypoints.settings import (
    MIN_PSEUDONYM_KEY_BYTES,
    CipherKind,
    IntrospectionAuthMethod,
    IntrospectionConfig,
    NotifierKind,
    Settings,
    TokenMode,
    VaultConfig,
)
from entrypoints.startup_errors import (
    StartupError,
    database_password,
    database_target,
    describe_cause,
    startup_step,
)

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


def development_issuer(settings: Settings) -> DevelopmentIssuer:
    """The development profile's own token issuer, its keys under the data folder."""
    return DevelopmentIssuer.load_or_create(
        settings.data_dir / "dev-issuer", settings.token_issuer, settings.token_audience
    )


def database_engine(settings: Settings) -> AsyncEngine:
    """The configured database with the configured pool (Postgres; SQLite has no pool to size)."""
    limits = DatabaseLimits(
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout_seconds=settings.db_pool_timeout_seconds,
    )
    return create_engine(settings.database_url, limits)


def configure_tracing(environ: Mapping[str, str]) -> None:
    """OpenTelemetry for this process, from the standard ``OTEL_*`` variables: the global tracer
    provider, and spans with ``traceparent`` propagation for every httpx client (JWKS, webhook,
    Vault transit) and urllib3 pool (hvac). Export is off unless configured."""
    provider = tracer_provider_from_environment(environ, installed_version(), SPANS_DROPPED.inc)
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    URLLib3Instrumentor().instrument()


def database_step(settings: Settings) -> contextlib.AbstractContextManager[None]:
    """Any failure inside becomes one line naming MFA_DATABASE_URL's host and database."""
    url = settings.database_url
    return startup_step("MFA_DATABASE_URL", database_target(url), hidden=(database_password(url),))


def vault_step(settings: Settings) -> contextlib.AbstractContextManager[None]:
    """Any failure inside becomes one line naming MFA_VAULT_ADDR."""
    return startup_step("MFA_VAULT_ADDR", settings.vault.addr if settings.vault else "not set")


@dataclass(frozen=True, slots=True)
class _CheckStatements:
    """A store's own statements for the two units of a code check (Postgres: one statement
    each); elsewhere the use cases run them on the units of work."""

    reservations: CheckReservations
    acceptance: CodeAcceptance


async def _database(
    settings: Settings,
    stack: AsyncExitStack,
    records: EventRecords,
    tracer_provider: TracerProvider | None = None,
) -> tuple[UnitOfWorkFactory, ReadinessProbe, _CheckStatements | None]:
    """The units of work, the readiness probe, and the store's own check statements if any."""
    with database_step(settings):
        engine = database_engine(settings)
        stack.push_async_callback(engine.dispose)
        measure_engine(engine, engine.dialect.name)
        trace_engine(engine, tracer_provider)
        if settings.is_development:
            await upgrade(engine)
        else:
            await ensure_schema_is_current(engine)
    checks = None
    if engine.dialect.name == "postgresql":
        checks = _CheckStatements(
            PostgresCheckReservations(engine, records), PostgresCodeAcceptance(engine, records)
        )
    return SqlUnitOfWorkFactory(engine), DatabaseProbe(engine), checks


async def _cipher(
    settings: Settings, stack: AsyncExitStack
) -> tuple[SecretCipher, ReadinessProbe | None]:
    if settings.cipher is CipherKind.LOCAL:
        with startup_step("MFA_LOCAL_KEY_FILE", str(settings.local_key_file)):
            return LocalAesGcmCipher(load_or_create_key_ring(settings.local_key_file)), None
    with vault_step(settings):
        vault = _vault_config(settings)
        client = VaultClient(vault_settings(settings), max_connections=vault.max_connections)
        stack.push_async_callback(client.aclose)
        await client.login()
        cipher = VaultTransitCipher(client, key=vault.key, mount=vault.mount)
        await verify_owner_binding(cipher)
    return MeasuredCipher(cipher, "vault"), VaultProbe(client)


def _vault_config(settings: Settings) -> VaultConfig:
    if settings.vault is None:
        raise ValueError("MFA_VAULT_ADDR is not set")
    return settings.vault


def vault_settings(settings: Settings) -> VaultSettings:
    """The Vault adapter's settings from the service's (MFA_CIPHER=vault)."""
    vault = _vault_config(settings)
    auth: Credentials
    if vault.token is not None:
        auth = TokenAuth(vault.token)
    elif vault.token_file is not None:
        auth = TokenFileAuth(vault.token_file)
    elif vault.k8s_role is not None:
        auth = KubernetesAuth(vault.k8s_role, vault.k8s_token_file, vault.k8s_mount)
    else:
        auth = AppRoleAuth(vault.role_id or "", vault.secret_id or "")
    return VaultSettings(
        addr=vault.addr,
        auth=auth,
        namespace=vault.namespace,
        timeout=vault.timeout_seconds,
        ca_cert=vault.ca_cert,
    )


def pseudonym_key(settings: Settings) -> bytes:
    """The key of erased users' pseudonyms: MFA_PSEUDONYM_KEY, else the file it names, else (in
    development) a key the profile creates under its data folder.

    Raises:
        SecretFileError: the file is unreadable or too short.
    """
    if settings.pseudonym_key is not None:
        return settings.pseudonym_key.encode("utf-8")
    if settings.pseudonym_key_file is not None or not settings.is_development:
        return read_secret(settings.pseudonym_key_path, MIN_PSEUDONYM_KEY_BYTES)
    return load_or_create_secret(settings.pseudonym_key_path, MIN_PSEUDONYM_KEY_BYTES)


async def _notifier(settings: Settings, stack: AsyncExitStack) -> Notifier:
    if settings.notifier is NotifierKind.LOG:
        return LoggingNotifier()
    client = await stack.enter_async_context(httpx.AsyncClient(follow_redirects=False))
    return WebhookNotifier(
        settings.notify_webhook_url or "", (settings.notify_webhook_key or "").encode(), client
    )


async def _deliver_forever(
    deliver: DeliverNotifications,
    measure: MeasureOutboxBacklog,
    interval: float,
    stopping: asyncio.Event,
) -> None:
    """Delivers the outbox in the background of each worker until ``stopping`` is set, then returns
    after the batch in hand; the outbox's leases keep workers from sending one notification twice
    at once. Measures the backlog after each round."""
    while not stopping.is_set():
        try:
            delivered = await deliver()
            await measure()
        except DependencyUnavailable:
            logger.warning("notification delivery paused: the database is unavailable")
            delivered = 0
        except Exception:
            logger.exception("notification delivery failed")
            delivered = 0
        if delivered == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), interval)


OUTBOX_STOP_SECONDS = 10.0
"""How long a stopping worker waits for the outbox batch in hand; a batch cut short is sent again
by another worker once its lease ends (delivery is at least once)."""


async def _stop(task: asyncio.Task[None], stopping: asyncio.Event) -> None:
    stopping.set()
    try:
        await asyncio.wait_for(asyncio.shield(task), OUTBOX_STOP_SECONDS)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _token_verifier(settings: Settings, stack: AsyncExitStack) -> TokenVerifier:
    if settings.token_mode is TokenMode.INTROSPECTION:
        return await _introspection_verifier(settings, stack)
    jwt_verifier = await _jwt_verifier(settings, stack)
    if settings.token_mode is TokenMode.BOTH:
        introspection = await _introspection_verifier(settings, stack)
        return JwtOrIntrospection(jwt=jwt_verifier, introspection=introspection)
    return jwt_verifier


def _introspection_config(settings: Settings) -> IntrospectionConfig:
    if settings.introspection is None:
        raise ValueError("MFA_INTROSPECTION_URL is not set")
    return settings.introspection


def _introspection_credentials(config: IntrospectionConfig) -> ClientCredentials:
    """The service's client credentials at the identity provider (reads the private key file)."""
    client_id = config.client_id or ""
    if config.auth_method is IntrospectionAuthMethod.PRIVATE_KEY_JWT:
        if config.private_key_file is None:
            raise ValueError("MFA_INTROSPECTION_PRIVATE_KEY_FILE is not set")
        key, algorithm = load_client_key(config.private_key_file)
        return ClientPrivateKey(client_id, key, algorithm)
    if config.auth_method is IntrospectionAuthMethod.CLIENT_SECRET_POST:
        return ClientSecret(client_id, config.client_secret or "", "client_secret_post")
    return ClientSecret(client_id, config.client_secret or "", "client_secret_basic")


async def _introspection_verifier(
    settings: Settings, stack: AsyncExitStack
) -> IntrospectionTokenVerifier:
    config = _introspection_config(settings)
    client = IntrospectionClient(
        config.url,
        _introspection_credentials(config),
        timeout_seconds=config.timeout_seconds,
        ca_cert=config.ca_cert,
    )
    stack.push_async_callback(client.aclose)
    return IntrospectionTokenVerifier(
        introspector=client,
        rules=AnswerRules(
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            display_name_claim=settings.account_name_claim,
        ),
        cache=IntrospectionCache(max_age_seconds=config.cache_seconds, now=time.time),
        now=time.time,
        required_scope=settings.required_scope,
    )


async def _jwt_verifier(settings: Settings, stack: AsyncExitStack) -> TokenVerifier:
    if settings.jwks_url:
        client = await stack.enter_async_context(httpx.AsyncClient(follow_redirects=False))
        source: JwksFileSource | JwksUrlSource = JwksUrlSource(settings.jwks_url, client)
    elif settings.jwks_file:
        source = JwksFileSource(settings.jwks_file)
        with startup_step("MFA_JWKS_FILE", str(settings.jwks_file)):
            await source.fetch()
    else:
        source = JwksFileSource(development_issuer(settings).jwks_path)
    verifier = JwtTokenVerifier(
        source=CountedJwksSource(source),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        algorithms=settings.token_algorithms,
        now=time.time,
        required_scope=settings.required_scope,
        display_name_claim=settings.account_name_claim,
    )
    if settings.token_cache_size == 0:
        return verifier
    return CachingTokenVerifier(verifier, settings.token_cache_size)


@asynccontextmanager
async def build_services(settings: Settings, overrides: Overrides) -> AsyncIterator[Services]:
    """Every adapter the settings choose, unless overridden, wired into the use cases."""
    async with AsyncExitStack() as stack:
        probes: list[ReadinessProbe] = []
        metrics = overrides.metrics or PrometheusOperationalMetrics()
        records = EventRecords(metrics)
        publish_build_info(settings.build_revision)
        tracer = trace.get_tracer("mfa", tracer_provider=overrides.tracer_provider)
        checks: _CheckStatements | None = None
        if overrides.unit_of_work is not None:
            store = overrides.unit_of_work
        else:
            store, database_probe, checks = await _database(
                settings, stack, records, overrides.tracer_provider
            )
            probes.append(database_probe)
        unit_of_work = RecordingUnitsOfWork(store, records)
        if overrides.cipher is not None:
            cipher = overrides.cipher
        else:
            cipher, cipher_probe = await _cipher(settings, stack)
            probes.extend([cipher_probe] if cipher_probe else [])
            if settings.cipher is CipherKind.VAULT:
                cipher = TracedCipher(cipher, "vault", tracer)
        clock = overrides.clock or SystemClock()
        qr_renderer = TracedQrRenderer(overrides.qr_renderer or SegnoQrRenderer(), tracer)
        deliver = DeliverNotifications(
            unit_of_work=unit_of_work,
            notifier=overrides.notifier or await _notifier(settings, stack),
            clock=clock,
        )
        measure = MeasureOutboxBacklog(unit_of_work=unit_of_work, metrics=metrics)
        stopping = asyncio.Event()
        delivery = asyncio.create_task(
            _deliver_forever(deliver, measure, settings.notify_interval_seconds, stopping)
        )
        stack.push_async_callback(_stop, delivery, stopping)
        generator = PyotpGenerator()
        attempts = AttemptGate(
            unit_of_work,
            checks.reservations if checks else TransactionalCheckReservations(unit_of_work),
        )
        verify_code = VerifyCode(
            unit_of_work=unit_of_work,
            cipher=cipher,
            generator=generator,
            clock=clock,
            settings=VerificationSettings(settings.totp_window, settings.totp_max_drift),
            attempts=attempts,
            acceptance=checks.acceptance if checks else None,
        )
        step_up = StepUp(
            StepUpPolicy(
                max_age=settings.step_up_max_age,
                second_factor_acr=frozenset(settings.step_up_acr_values),
            ),
            verify_code,
        )
        yield Services(
            start_enrollment=StartEnrollment(
                unit_of_work=unit_of_work,
                cipher=cipher,
                qr_renderer=qr_renderer,
                clock=clock,
                settings=EnrollmentSettings(
                    issuer=settings.issuer,
                    policy=settings.totp_policy,
                    pending_ttl=settings.pending_ttl,
                    max_active=settings.max_authenticators,
                    max_starts_per_hour=settings.enrollments_per_hour,
                ),
                step_up=step_up,
            ),
            confirm_enrollment=ConfirmEnrollment(
                unit_of_work=unit_of_work,
                cipher=cipher,
                generator=generator,
                clock=clock,
                window=settings.totp_window,
                max_active=settings.max_authenticators,
                attempts=attempts,
            ),
            verify_code=verify_code,
            regenerate_recovery_codes=RegenerateRecoveryCodes(
                unit_of_work=unit_of_work, clock=clock, step_up=step_up
            ),
            recovery_code_status=GetRecoveryCodeStatus(unit_of_work=unit_of_work),
            list_authenticators=ListAuthenticators(unit_of_work=unit_of_work, clock=clock),
            get_authenticator=GetAuthenticator(unit_of_work=unit_of_work, clock=clock),
            rename_authenticator=RenameAuthenticator(unit_of_work=unit_of_work, clock=clock),
            revoke_authenticator=RevokeAuthenticator(
                unit_of_work=unit_of_work, clock=clock, step_up=step_up
            ),
            show_pending_enrollment=ShowPendingEnrollment(
                unit_of_work=unit_of_work,
                cipher=cipher,
                qr_renderer=qr_renderer,
                clock=clock,
                issuer=settings.issuer,
            ),
            idempotency=IdempotencyGuard(unit_of_work=unit_of_work, clock=clock),
            token_verifier=TracedTokenVerifier(
                overrides.token_verifier or await _token_verifier(settings, stack), tracer
            ),
            readiness_probes=overrides.readiness_probes or tuple(probes),
            admin=AdminServices.build(
                unit_of_work, clock, RecentSecondFactor(step_up), pseudonym_key(settings)
            ),
        )


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
            max_concurrent_requests=settings.max_concurrent_requests,
        ),
        lifespan,
    )


def log_startup_failure(error: Exception, log_level: str) -> None:
    """One line that says what stopped the start; the traceback only at MFA_LOG_LEVEL=DEBUG."""
    reason = str(error) if isinstance(error, StartupError) else describe_cause(error)
    logger.error("cannot start: %s", reason, exc_info=error if log_level == "DEBUG" else None)


async def check_startup(settings: Settings) -> None:
    """Opens the dependencies a worker opens first (database, cipher, token keys) and closes them, so
    that a wrong setting or an unreachable dependency stops ``serve`` before it listens."""
    async with AsyncExitStack() as stack:
        await _database(settings, stack, EventRecords())
        await _cipher(settings, stack)
        await _token_verifier(settings, stack)


async def purge_expired(settings: Settings) -> int:
    """Deletes expired pending enrollments of the configured database; returns how many."""
    engine = database_engine(settings)
    try:
        with database_step(settings):
            await ensure_schema_is_current(engine)
        purge = PurgeExpiredEnrollments(
            unit_of_work=SqlUnitOfWorkFactory(engine), clock=SystemClock()
        )
        return await purge()
    finally:
        await engine.dispose()


async def migrate(settings: Settings) -> None:
    """Brings the configured database to the newest schema."""
    engine = database_engine(settings)
    try:
        with database_step(settings):
            await upgrade(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def rewrap_job(settings: Settings) -> AsyncIterator[tuple[RewrapSecrets, int]]:
    """The rewrap use case on the configured database and cipher, and how many rows it will see."""
    async with AsyncExitStack() as stack:
        engine = database_engine(settings)
        stack.push_async_callback(engine.dispose)
        with database_step(settings):
            await ensure_schema_is_current(engine)
        unit_of_work = SqlUnitOfWorkFactory(engine)
        cipher, _ = await _cipher(settings, stack)
        with database_step(settings):
            async with unit_of_work() as uow:
                total = await uow.enrollments.count()
        yield RewrapSecrets(unit_of_work=unit_of_work, cipher=cipher), total


def set_up_vault(settings: Settings) -> tuple[TransitKeyReport, str, str]:
    """Creates the transit mount and key if missing (with an operator's token) and returns the
    report with the service's and the rotation job's policies."""
    vault = _vault_config(settings)
    with vault_step(settings):
        client = build_operator_client(vault_settings(settings))
        report = ensure_transit_key(client, vault.mount, vault.key)
    return (
        report,
        service_policy(vault.mount, vault.key),
        rotation_job_policy(vault.mount, vault.key),
    )


@asynccontextmanager
async def console_admin(settings: Settings) -> AsyncIterator[AdminServices]:
    """The admin use cases on the configured database for an operator at the console: no token,
    so no step-up (see ``OperatorAtConsole``); every action audited as its actor."""
    engine = database_engine(settings)
    try:
        if settings.is_development:
            await upgrade(engine)
        else:
            await ensure_schema_is_current(engine)
        yield AdminServices.build(
            RecordingUnitsOfWork(SqlUnitOfWorkFactory(engine), EventRecords()),
            SystemClock(),
            OperatorAtConsole(),
            pseudonym_key(settings),
        )
    finally:
        await engine.dispose()
