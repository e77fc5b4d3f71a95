"""One suite for every CodeAcceptance: over the units of work of memory, SQLite and Postgres, and
Postgres' own one statement."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.sqlalchemy.postgres_checks import PostgresCodeAcceptance
from application.errors import ConcurrentUpdate
from application.event_records import EventRecords
from application.ports.audit import AuditAction, RequestContext
from application.ports.code_acceptance import CodeAcceptance
from application.ports.unit_of_work import UnitOfWorkFactory
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.code_acceptance import TransactionalCodeAcceptance
from domain.enrollment import CodeMatch, Enrollment
from tests.contract.ports.stores import STORES, authenticator, open_store

NOW = datetime(2026, 11, 27, 12, 0, 0, 123000, tzinfo=UTC)
USER = "alice"
CONTEXT = RequestContext("request-1", "192.0.2.7", "pytest")
RECORDS = EventRecords()


@dataclass(frozen=True, slots=True)
class Store:
    unit_of_work: UnitOfWorkFactory
    acceptance: CodeAcceptance


@pytest.fixture(params=[*STORES, "postgres-one-statement"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    kind = "postgres" if request.param == "postgres-one-statement" else request.param
    async with open_store(kind, tmp_path, request) as opened:
        acceptance: CodeAcceptance = (
            PostgresCodeAcceptance(opened.engine, RECORDS)
            if request.param == "postgres-one-statement" and opened.engine is not None
            else TransactionalCodeAcceptance(RecordingUnitsOfWork(opened.unit_of_work, RECORDS))
        )
        yield Store(opened.unit_of_work, acceptance)


async def _active(store: Store) -> Enrollment:
    """An active authenticator of USER whose first code (step 100) was used; USER has two failed
    attempts counted and three recovery codes, one used."""
    enrollment = authenticator(USER, NOW)
    async with store.unit_of_work() as uow:
        await uow.enrollments.add(enrollment)
        throttle = await uow.throttles.lock(USER)
        throttle.reserve(NOW)
        throttle.reserve(NOW)
        await uow.throttles.save(throttle)
        await uow.recovery_codes.replace(USER, ["a" * 64, "b" * 64, "c" * 64], NOW)
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.recovery_codes.consume(USER, "a" * 64, NOW)
        await uow.commit()
    enrollment.collect_events()  # stored as it was set up, unrecorded: as if loaded afresh
    return enrollment


def _used(enrollment: Enrollment, step: int, offset: int = 1) -> Enrollment:
    later = NOW + timedelta(minutes=1)
    enrollment.record_use(CodeMatch(step=step, offset=offset, replayed=False), later, 2)
    return enrollment


async def _state(store: Store, enrollment: Enrollment) -> tuple[Enrollment, int, int]:
    """The stored authenticator, USER's counted failures and how many codes were verified."""
    async with store.unit_of_work() as uow:
        stored = await uow.enrollments.get(enrollment.id)
        failures = (await uow.throttles.lock(USER)).failures
        verified = await uow.audit.count_since(USER, AuditAction.CODE_VERIFIED, NOW)
    assert stored is not None
    return stored, failures, verified


async def test_an_accepted_code_uses_up_its_step_resets_the_count_and_is_audited(
    store: Store,
) -> None:
    enrollment = await _active(store)
    version = enrollment.version

    remaining = await store.acceptance.accept(_used(enrollment, 102), CONTEXT)

    assert remaining == 2
    assert enrollment.version == version + 1
    stored, failures, verified = await _state(store, enrollment)
    assert (stored.last_used_step, stored.drift_steps, stored.version) == (102, 1, version + 1)
    assert stored.last_used_at == NOW + timedelta(minutes=1)
    assert (failures, verified) == (0, 1)


async def test_a_step_used_meanwhile_is_refused_and_nothing_is_written(store: Store) -> None:
    enrollment = await _active(store)
    read_by_another_check = copy.deepcopy(enrollment)
    await store.acceptance.accept(_used(enrollment, 102), CONTEXT)
    async with store.unit_of_work() as uow:  # a check of USER in flight again
        throttle = await uow.throttles.lock(USER)
        throttle.reserve(NOW)
        await uow.throttles.save(throttle)
        await uow.commit()

    with pytest.raises(ConcurrentUpdate):
        await store.acceptance.accept(_used(read_by_another_check, 101), CONTEXT)

    stored, failures, verified = await _state(store, enrollment)
    assert (stored.last_used_step, stored.version) == (102, enrollment.version)
    assert (failures, verified) == (1, 1)


async def test_a_removed_authenticator_accepts_nothing(store: Store) -> None:
    enrollment = await _active(store)
    async with store.unit_of_work() as uow:
        stored = await uow.enrollments.get(enrollment.id)
        assert stored is not None
        stored.revoke(NOW)
        await uow.enrollments.update(stored)
        await uow.commit()

    with pytest.raises(ConcurrentUpdate):
        await store.acceptance.accept(_used(enrollment, 102), CONTEXT)

    _, failures, verified = await _state(store, enrollment)
    assert (failures, verified) == (2, 0)
