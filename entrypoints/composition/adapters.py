"""Settings → adapters: the database, the cipher, the notifier, the pseudonym key. This is where
the composition root does I/O (engines, clients, key files); every adapter opened here is closed
by the ``AsyncExitStack`` it is given."""

from __future__ import annotations

import contextlib
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
from opentelemetry.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.jwt.dev_issuer import DevelopmentIssuer
from adapters.local_cipher.cipher import LocalAesGcmCipher
from adapters.local_cipher.key_file import load_or_create_key_ring
from adapters.notifications.logging_notifier import LoggingNotifier
from adapters.notifications.webhook import WebhookNotifier
from adapters.opentelemetry.database import trace_engine
from adapters.prometheus.database import measure_engine
from adapters.prometheus.measured_cipher import MeasuredCipher
from adapters.sqlalchemy.engine import DatabaseLimits, create_engine
from adapters.sqlalchemy.migrations.runner import ensure_schema_is_current, upgrade
from adapters.sqlalchemy.postgres_checks import PostgresCheckReservations, PostgresCodeAcceptance
from adapters.sqlalchemy.postgres_enrollment_starts import PostgresEnrollmentStarts
from adapters.sqlalchemy.readiness import DatabaseProbe
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from adapters.system.secret_file import load_or_create_secret, read_secret
from adapters.vault.binding_check import verify_owner_binding
from adapters.vault.client import VaultClient
from adapters.vault.probe import VaultProbe
from adapters.vault.settings import (
    AppRoleAuth,
    Credentials,
    KubernetesAuth,
    TokenAuth,
    TokenFileAuth,
    VaultSettings,
)
from adapters.vault.transit_cipher import VaultTransitCipher
from application.event_records import EventRecords
from application.ports.check_reservations import CheckReservations
from application.ports.code_acceptance import CodeAcceptance
from application.ports.enrollment_starts import EnrollmentStarts
from application.ports.notifications import Notifier
from application.ports.readiness import ReadinessProbe
from application.ports.secret_cipher import SecretCipher
from application.ports.unit_of_work import UnitOfWorkFactory
from entrypoints.settings import (
    MIN_PSEUDONYM_KEY_BYTES,
    CipherKind,
    NotifierKind,
    Settings,
    VaultConfig,
)
from entrypoints.startup_errors import database_password, database_target, startup_step


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


def database_step(settings: Settings) -> contextlib.AbstractContextManager[None]:
    """Any failure inside becomes one line naming MFA_DATABASE_URL's host and database."""
    url = settings.database_url
    return startup_step("MFA_DATABASE_URL", database_target(url), hidden=(database_password(url),))


def vault_step(settings: Settings) -> contextlib.AbstractContextManager[None]:
    """Any failure inside becomes one line naming MFA_VAULT_ADDR."""
    return startup_step("MFA_VAULT_ADDR", settings.vault.addr if settings.vault else "not set")


async def bring_schema_up(engine: AsyncEngine, settings: Settings) -> None:
    """The development profile migrates by itself; production only checks (``migrate`` does it)."""
    if settings.is_development:
        await upgrade(engine)
    else:
        await ensure_schema_is_current(engine)


@dataclass(frozen=True, slots=True)
class HotStatements:
    """A store's own statements for the units every request of the hot paths runs (Postgres: a
    code check's two, one statement each; an enrollment's start, one statement and one
    transaction); elsewhere the use cases run them on the units of work."""

    reservations: CheckReservations
    acceptance: CodeAcceptance
    starts: EnrollmentStarts


@dataclass(frozen=True, slots=True)
class Database:
    unit_of_work: UnitOfWorkFactory
    probe: ReadinessProbe
    statements: HotStatements | None


async def open_database(
    settings: Settings,
    stack: AsyncExitStack,
    records: EventRecords,
    tracer_provider: TracerProvider | None = None,
) -> Database:
    """The units of work, the readiness probe, and the store's own check statements if any."""
    with database_step(settings):
        engine = database_engine(settings)
        stack.push_async_callback(engine.dispose)
        measure_engine(engine, engine.dialect.name)
        trace_engine(engine, tracer_provider)
        await bring_schema_up(engine, settings)
    statements = None
    if engine.dialect.name == "postgresql":
        statements = HotStatements(
            PostgresCheckReservations(engine, records),
            PostgresCodeAcceptance(engine, records),
            PostgresEnrollmentStarts(engine, records),
        )
    return Database(SqlUnitOfWorkFactory(engine), DatabaseProbe(engine), statements)


async def open_cipher(
    settings: Settings, stack: AsyncExitStack
) -> tuple[SecretCipher, ReadinessProbe | None]:
    """The configured cipher, with a readiness probe for a remote one."""
    if settings.cipher is CipherKind.LOCAL:
        with startup_step("MFA_LOCAL_KEY_FILE", str(settings.local_key_file)):
            return LocalAesGcmCipher(load_or_create_key_ring(settings.local_key_file)), None
    with vault_step(settings):
        vault = vault_config(settings)
        client = VaultClient(vault_settings(settings), max_connections=vault.max_connections)
        stack.push_async_callback(client.aclose)
        await client.login()
        cipher = VaultTransitCipher(client, key=vault.key, mount=vault.mount)
        await verify_owner_binding(cipher)
    return MeasuredCipher(cipher, "vault"), VaultProbe(client)


def vault_config(settings: Settings) -> VaultConfig:
    if settings.vault is None:
        raise ValueError("MFA_VAULT_ADDR is not set")
    return settings.vault


def vault_settings(settings: Settings) -> VaultSettings:
    """The Vault adapter's settings from the service's (MFA_CIPHER=vault)."""
    vault = vault_config(settings)
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


async def open_notifier(settings: Settings, stack: AsyncExitStack) -> Notifier:
    if settings.notifier is NotifierKind.LOG:
        return LoggingNotifier()
    client = await stack.enter_async_context(httpx.AsyncClient(follow_redirects=False))
    return WebhookNotifier(
        settings.notify_webhook_url or "", (settings.notify_webhook_key or "").encode(), client
    )
