"""Business events are counted once their change is committed, through the OperationalMetrics
port (an in-memory adapter here), on every adapter set; and they reach GET /metrics."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from adapters.memory.clock import FrozenClock
from adapters.memory.operational_metrics import MemoryOperationalMetrics
from application.ports.operational_metrics import BusinessEvent as E
from entrypoints.composition import Overrides, create_app
from entrypoints.settings import Settings
from tests.contract.http.api import bearer, confirm, enroll, verify
from tests.integration.http_app.conftest import START, code_for
from tests.support.in_process import Client, serve_in_process

FRESH = int(START.timestamp())


@pytest.fixture
def metrics() -> MemoryOperationalMetrics:
    return MemoryOperationalMetrics()


@pytest.fixture
async def counted(
    settings: Settings, overrides: Overrides, metrics: MemoryOperationalMetrics
) -> AsyncIterator[Client]:
    app = create_app(settings, replace(overrides, metrics=metrics))
    async with serve_in_process(app) as test_client:
        yield test_client


def _wrong(enrollment: dict[str, Any], clock: FrozenClock) -> str:
    taken = {code_for(enrollment, clock.now(), s) for s in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in taken)


async def test_each_step_of_the_journey_counts_once(
    counted: Client,
    metrics: MemoryOperationalMetrics,
    clock: FrozenClock,
    token_for: Callable[..., str],
) -> None:
    alice = token_for("alice", auth_time=FRESH, amr=["pwd", "otp"])
    await enroll(counted, alice)
    enrollment = await enroll(counted, alice)
    assert (
        await confirm(counted, alice, enrollment["enrollmentId"], _wrong(enrollment, clock))
    ).status_code == 400
    confirmed = await confirm(
        counted, alice, enrollment["enrollmentId"], code_for(enrollment, START)
    )
    assert confirmed.status_code == 200
    clock.advance(timedelta(seconds=30))
    code = code_for(enrollment, clock.now())
    assert (await verify(counted, alice, code=code)).status_code == 200
    assert (await verify(counted, alice, code=code)).status_code == 400
    recovery = confirmed.json()["recoveryCodes"][0]
    assert (await verify(counted, alice, recoveryCode=recovery)).status_code == 200
    regenerated = await counted.post("/settings/MfaSecret/recovery-codes", headers=bearer(alice))
    assert regenerated.status_code == 200, regenerated.text
    revoked = await counted.delete(
        f"/settings/MfaSecret/{enrollment['enrollmentId']}", headers=bearer(alice)
    )
    assert revoked.status_code == 204, revoked.text
    assert (await verify(counted, alice, code=code)).status_code == 404

    assert metrics.counts == Counter(
        {
            E.ENROLLMENT_STARTED: 2,
            E.ENROLLMENT_REPLACED: 1,
            E.VERIFICATION_WRONG: 1,
            E.ENROLLMENT_CONFIRMED: 1,
            E.VERIFICATION_ACCEPTED: 1,
            E.VERIFICATION_REPLAYED: 1,
            E.VERIFICATION_RECOVERY_CODE: 1,
            E.RECOVERY_CODES_REGENERATED: 1,
            E.AUTHENTICATOR_REVOKED: 1,
            E.VERIFICATION_NO_AUTHENTICATOR: 1,
        }
    )


async def test_a_lockout_counts_once_and_blocked_checks_count_as_locked(
    counted: Client,
    metrics: MemoryOperationalMetrics,
    clock: FrozenClock,
    token_for: Callable[..., str],
) -> None:
    bob = token_for("bob")
    enrollment = await enroll(counted, bob)
    assert (
        await confirm(counted, bob, enrollment["enrollmentId"], code_for(enrollment, START))
    ).status_code == 200
    wrong = _wrong(enrollment, clock)
    statuses = [(await verify(counted, bob, code=wrong)).status_code for _ in range(6)]

    assert statuses == [400] * 5 + [429]
    assert metrics.counts[E.VERIFICATION_WRONG] == 5
    assert metrics.counts[E.LOCKOUT_STARTED] == 1
    assert metrics.counts[E.VERIFICATION_LOCKED] == 1


async def test_a_confirmation_after_expiry_counts_as_expired(
    counted: Client,
    metrics: MemoryOperationalMetrics,
    clock: FrozenClock,
    token_for: Callable[..., str],
) -> None:
    carol = token_for("carol")
    enrollment = await enroll(counted, carol)
    clock.advance(timedelta(minutes=11))
    response = await confirm(
        counted, carol, enrollment["enrollmentId"], code_for(enrollment, clock.now())
    )

    assert response.status_code == 410
    assert metrics.counts == Counter({E.ENROLLMENT_STARTED: 1, E.ENROLLMENT_EXPIRED: 1})


async def test_refused_requests_count_nothing(
    counted: Client, metrics: MemoryOperationalMetrics, token_for: Callable[..., str]
) -> None:
    dave = token_for("dave")
    assert (await verify(counted, dave, code="12")).status_code == 400
    assert (
        await counted.post("/settings/MfaSecret", json={"mfaMethod": "totp"})
    ).status_code == 401

    assert metrics.counts == Counter()


_SAMPLE = re.compile(r'^mfa_enrollments_total\{event="(\w+)"\} (\S+)$', re.MULTILINE)


def _enrollments(text: str) -> dict[str, float]:
    return {event: float(value) for event, value in _SAMPLE.findall(text)}


async def test_the_prometheus_adapter_shows_every_series_and_counts_them(
    client: Client, token_for: Callable[..., str]
) -> None:
    before = (await client.get("/metrics")).text
    await enroll(client, token_for("erin"))
    after = (await client.get("/metrics")).text

    assert set(_enrollments(before)) == {"started", "replaced", "confirmed", "expired", "cancelled"}
    assert _enrollments(after)["started"] == _enrollments(before)["started"] + 1
    for name in (
        'mfa_verifications_total{outcome="no_authenticator"}',
        "mfa_lockouts_total",
        "mfa_recovery_codes_regenerated_total",
        "mfa_authenticators_revoked_total",
        'mfa_notifications_total{outcome="failed"}',
        "mfa_outbox_backlog",
        "mfa_build_info{",
    ):
        assert name in after
    assert "erin" not in after
