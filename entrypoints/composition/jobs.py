"""The operator's jobs on the configured stack: check the start, migrate, purge, rewrap, set up
Vault, and the helpdesk's use cases at the console."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from adapters.sqlalchemy.migrations.runner import ensure_schema_is_current, upgrade
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from adapters.system.clock import SystemClock
from adapters.vault.operator_client import build_operator_client
from adapters.vault.setup import (
    TransitKeyReport,
    ensure_transit_key,
    rotation_job_policy,
    service_policy,
)
from application.agent import OperatorAtConsole
from application.event_records import EventRecords
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.purge_expired_enrollments import PurgeExpiredEnrollments
from application.use_cases.rewrap_secrets import RewrapSecrets
from entrypoints.admin_services import AdminServices
from entrypoints.composition.adapters import (
    bring_schema_up,
    database_engine,
    database_step,
    open_cipher,
    open_database,
    pseudonym_key,
    vault_config,
    vault_settings,
    vault_step,
)
from entrypoints.composition.token_verifiers import open_token_verifier
from entrypoints.settings import Settings


async def check_startup(settings: Settings) -> None:
    """Opens the dependencies a worker opens first (database, cipher, token keys) and closes them, so
    that a wrong setting or an unreachable dependency stops ``serve`` before it listens."""
    async with AsyncExitStack() as stack:
        await open_database(settings, stack, EventRecords())
        await open_cipher(settings, stack)
        await open_token_verifier(settings, stack, time.time)


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
        cipher, _ = await open_cipher(settings, stack)
        with database_step(settings):
            async with unit_of_work() as uow:
                total = await uow.enrollments.count()
        yield RewrapSecrets(unit_of_work=unit_of_work, cipher=cipher), total


def set_up_vault(settings: Settings) -> tuple[TransitKeyReport, str, str]:
    """Creates the transit mount and key if missing (with an operator's token) and returns the
    report with the service's and the rotation job's policies."""
    vault = vault_config(settings)
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
        await bring_schema_up(engine, settings)
        yield AdminServices.build(
            RecordingUnitsOfWork(SqlUnitOfWorkFactory(engine), EventRecords()),
            SystemClock(),
            OperatorAtConsole(),
            pseudonym_key(settings),
        )
    finally:
        await engine.dispose()
