"""On Postgres a confirmation activates under the user's enrollment lock, which a start holds while
it counts the active authenticators and stores: a start that counted none, and so asked no
step-up, cannot store beside an authenticator a confirmation activated meanwhile (outside test).
Each statement reads what was committed when it began, so only the lock orders the two."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from adapters.local_cipher.cipher import LocalAesGcmCipher
from adapters.memory.clock import FrozenClock
from adapters.pyotp.generator import PyotpGenerator
from application.errors import EnrollmentNotFound
from application.event_records import EventRecords
from application.ports.audit import RequestContext
from application.ports.secret_cipher import SecretOwner
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.confirm_enrollment import ConfirmEnrollment, ConfirmEnrollmentCommand
from domain.enrollment import Enrollment
from domain.mfa_method import MfaMethod
from domain.policy import TotpPolicy
from domain.secret import TotpSecret
from tests.contract.ports.stores import open_store, store_all
from tests.support.postgres import as_admin
from tests.support.waiting import eventually_found

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CONTEXT = RequestContext("request-1", "192.0.2.7", "pytest")


def _pending(sealed: str, enrollment_id: uuid.UUID) -> Enrollment:
    return Enrollment.start(
        enrollment_id=enrollment_id,
        user_id="alice",
        method=MfaMethod.TOTP,
        policy=TotpPolicy(),
        sealed_secret=sealed,
        device_name=None,
        now=NOW,
        pending_ttl=timedelta(minutes=10),
    )


async def _someone_waits_for_an_advisory_lock(database: str) -> bool:
    return bool(
        await as_admin(
            "SELECT count(*) FROM pg_locks JOIN pg_database ON pg_database.oid = pg_locks.database"
            " WHERE locktype = 'advisory' AND NOT granted AND datname = $1",
            database,
        )
    )


async def test_a_confirmation_waits_for_the_start_that_holds_the_users_lock(
    postgres_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    cipher = LocalAesGcmCipher({1: os.urandom(32)})
    secret, first_id = TotpSecret.from_entropy(os.urandom(20)), uuid.uuid4()
    first = _pending(await cipher.encrypt(secret, SecretOwner("alice", first_id)), first_id)
    async with open_store("postgres", tmp_path, request) as store:
        await store_all(store.unit_of_work, first)
        confirm = ConfirmEnrollment(
            unit_of_work=RecordingUnitsOfWork(store.unit_of_work, EventRecords()),
            cipher=cipher,
            generator=PyotpGenerator(),
            clock=FrozenClock(NOW),
            window=1,
        )
        code = pyotp.TOTP(secret.base32).at(NOW)

        async with store.unit_of_work() as start:  # a start's store, between its count and write
            await start.enrollments.lock_user("alice")
            assert await start.enrollments.active_for_user("alice") == []
            confirming = asyncio.create_task(
                confirm(ConfirmEnrollmentCommand("alice", first.id, code, CONTEXT))
            )
            database = postgres_url.rsplit("/", 1)[1]
            await eventually_found(
                lambda: _done_or_waiting(confirming, database), "the confirmation to wait"
            )
            assert not confirming.done(), "it activated while the start held the user's lock"
            replaced = await start.enrollments.pending_for_user("alice")
            assert replaced is not None
            replaced.give_way(NOW)
            await start.enrollments.remove(replaced)
            await start.enrollments.add(_pending("local:v1:c2VhbGVk", uuid.uuid4()))
            await start.commit()

        with pytest.raises(EnrollmentNotFound):  # the start replaced it: as if it came first
            await confirming
        async with store.unit_of_work() as uow:
            assert await uow.enrollments.active_for_user("alice") == []


async def _done_or_waiting(task: asyncio.Task[object], database: str) -> bool:
    return task.done() or await _someone_waits_for_an_advisory_lock(database)
