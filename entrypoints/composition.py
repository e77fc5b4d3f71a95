"""The composition root: the only module that chooses adapters. Everything is built in the app's
lifespan, never at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from litestar import Litestar
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
from adapters.pyotp.generator import PyotpGenerator
from adapters.segno.renderer import SegnoQrRenderer
from adapters.sqlalchemy.engine import DatabaseLimits, create_engine
from adapters.sqlalchemy.migrations.runner import ensure_schema_is_current, upgrade
from adapters.sqlalchemy.postgres_checks import PostgresCheckReservations, PostgresCodeAcceptance
from adapters.sqlalchemy.readiness import DatabaseProbe
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from adapters.system.clock import SystemClock
from adapters.vault.binding_check import verify_owner_binding
from adapters.vault.client import (
    AppRoleAuth,
    TokenAuth,
    VaultSession,
    VaultSettings,
    build_hvac_client,
)
from adapters.vault.gateway import VaultGateway
from adapters.vault.probe import VaultProbe
from adapters.vault.setup import (
    TransitKeyReport,
    ensure_transit_key,
    rotation_job_policy,
    service_policy,
)
from adapters.vault.transit_cipher import VaultTransitCipher
from application.errors import DependencyUnavailable
from application.idempotency import IdempotencyGuard
from application.ports.check_reservations import CheckReservations
from application.ports.clock import Clock
from application.ports.code_acceptance import CodeAcceptance
from application.ports.notifications import Notifier
from application.ports.qr_renderer import QrRenderer
from application.ports.readiness import ReadinessProbe
from application.ports.secret_cipher import SecretCipher
from application.ports.token_verifier import TokenVerifier
from application.ports.unit_of_work import UnitOfWorkFactory
from application.step_up import StepUp, StepUpPolicy
from application.use_cases.attempts import AttemptGate
from application.use_cases.confirm_enrollment import ConfirmEnrollment
from application.use_cases.deliver_notifications import DeliverNotifications
from application.use_cases.list_authenticators import GetAuthenticator, ListAuthenticators
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
from entrypoints.http.app import HttpOptions, build_http_app
from entrypoints.http.services import STATE_KEY, Services
from entrypoints.settings import (
    CipherKind,
    IntrospectionAuthMethod,
    IntrospectionConfig,
    NotifierKind,
    Settings,
    TokenMode,
    VaultConfig,
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


@dataclass(frozen=True, slots=True)
class _CheckStatements:
    """A store's own statements for the two units of a code check (Postgres: one statement
    each); elsewhere the use cases run them on the units of work."""

    reservations: CheckReservations
    acceptance: CodeAcceptance


async def _database(
    settings: Settings, stack: AsyncExitStack
) -> tuple[UnitOfWorkFactory, ReadinessProbe, _CheckStatements | None]:
    """The units of work, the readiness probe, and the store's own check statements if any."""
    engine = database_engine(settings)
    stack.push_async_callback(engine.dispose)
    if settings.is_development:
        await upgrade(engine)
    else:
        await ensure_schema_is_current(engine)
    checks = None
    if engine.dialect.name == "postgresql":
        checks = _CheckStatements(PostgresCheckReservations(engine), PostgresCodeAcceptance(engine))
    return SqlUnitOfWorkFactory(engine), DatabaseProbe(engine), checks


async def _cipher(
    settings: Settings, stack: AsyncExitStack
) -> tuple[SecretCipher, ReadinessProbe | None]:
    if settings.cipher is CipherKind.LOCAL:
        return LocalAesGcmCipher(load_or_create_key_ring(settings.local_key_file)), None
    vault = _vault_config(settings)
    session = VaultSession(vault_settings(settings))
    stack.callback(session.close)
    gateway = VaultGateway(session)
    await gateway.login()
    cipher = VaultTransitCipher(
        gateway,
        key=vault.key,
        mount=vault.mount,
        coalesce_window=vault.coalesce_ms / 1000 or None,
    )
    await verify_owner_binding(cipher)
    return cipher, VaultProbe(gateway)


def _vault_config(settings: Settings) -> VaultConfig:
    if settings.vault is None:
        raise ValueError("MFA_VAULT_ADDR is not set")
    return settings.vault


def vault_settings(settings: Settings) -> VaultSettings:
    """The Vault adapter's settings from the service's (MFA_CIPHER=vault)."""
    vault = _vault_config(settings)
    auth: TokenAuth | AppRoleAuth = (
        TokenAuth(vault.token)
        if vault.token is not None
        else AppRoleAuth(vault.role_id or "", vault.secret_id or "")
    )
    return VaultSettings(
        addr=vault.addr,
        auth=auth,
        namespace=vault.namespace,
        timeout=vault.timeout_seconds,
        ca_cert=vault.ca_cert,
    )


async def _notifier(settings: Settings, stack: AsyncExitStack) -> Notifier:
    if settings.notifier is NotifierKind.LOG:
        return LoggingNotifier()
    client = await stack.enter_async_context(httpx.AsyncClient(follow_redirects=False))
    return WebhookNotifier(
        settings.notify_webhook_url or "", (settings.notify_webhook_key or "").encode(), client
    )


async def _deliver_forever(deliver: DeliverNotifications, interval: float) -> None:
    """Delivers the outbox in the background of each worker; the outbox's leases keep workers
    from sending one notification twice at once."""
    while True:
        try:
            delivered = await deliver()
        except DependencyUnavailable:
            logger.warning("notification delivery paused: the database is unavailable")
            delivered = 0
        except Exception:
            logger.exception("notification delivery failed")
            delivered = 0
        if delivered == 0:
            await asyncio.sleep(interval)


async def _stop(task: asyncio.Task[None]) -> None:
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
    else:
        source = JwksFileSource(development_issuer(settings).jwks_path)
    verifier = JwtTokenVerifier(
        source=source,
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
        checks: _CheckStatements | None = None
        if overrides.unit_of_work is not None:
            unit_of_work = overrides.unit_of_work
        else:
            unit_of_work, database_probe, checks = await _database(settings, stack)
            probes.append(database_probe)
        if overrides.cipher is not None:
            cipher = overrides.cipher
        else:
            cipher, cipher_probe = await _cipher(settings, stack)
            probes.extend([cipher_probe] if cipher_probe else [])
        clock = overrides.clock or SystemClock()
        qr_renderer = overrides.qr_renderer or SegnoQrRenderer()
        deliver = DeliverNotifications(
            unit_of_work=unit_of_work,
            notifier=overrides.notifier or await _notifier(settings, stack),
            clock=clock,
        )
        delivery = asyncio.create_task(_deliver_forever(deliver, settings.notify_interval_seconds))
        stack.push_async_callback(_stop, delivery)
        generator = PyotpGenerator()
        attempts = AttemptGate(unit_of_work, checks.reservations if checks else None)
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
            token_verifier=overrides.token_verifier or await _token_verifier(settings, stack),
            readiness_probes=overrides.readiness_probes or tuple(probes),
        )


def create_app(settings: Settings, overrides: Overrides | None = None) -> Litestar:
    """The HTTP app for ``settings``. Nothing is built until the app starts."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with build_services(settings, overrides or Overrides()) as services:
            app.state[STATE_KEY] = services
            yield

    return build_http_app(
        HttpOptions(
            max_body_bytes=settings.max_body_bytes,
            cors_origins=settings.cors_origins,
            max_concurrent_requests=settings.max_concurrent_requests,
        ),
        lifespan,
    )


async def purge_expired(settings: Settings) -> int:
    """Deletes expired pending enrollments of the configured database; returns how many."""
    engine = database_engine(settings)
    try:
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
        await upgrade(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def rewrap_job(settings: Settings) -> AsyncIterator[tuple[RewrapSecrets, int]]:
    """The rewrap use case on the configured database and cipher, and how many rows it will see."""
    async with AsyncExitStack() as stack:
        engine = database_engine(settings)
        stack.push_async_callback(engine.dispose)
        await ensure_schema_is_current(engine)
        unit_of_work = SqlUnitOfWorkFactory(engine)
        cipher, _ = await _cipher(settings, stack)
        async with unit_of_work() as uow:
            total = await uow.enrollments.count()
        yield RewrapSecrets(unit_of_work=unit_of_work, cipher=cipher), total


def set_up_vault(settings: Settings) -> tuple[TransitKeyReport, str, str]:
    """Creates the transit mount and key if missing (with an operator's token) and returns the
    report with the service's and the rotation job's policies."""
    vault = _vault_config(settings)
    client = build_hvac_client(vault_settings(settings))
    report = ensure_transit_key(client, vault.mount, vault.key)
    return (
        report,
        service_policy(vault.mount, vault.key),
        rotation_job_policy(vault.mount, vault.key),
    )
