"""The outbox delivers each notification at least once, on every store (memory, SQLite, Postgres)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.memory.clock import FrozenClock
from application.errors import DependencyUnavailable
from application.ports.notifications import Notification, NotificationKind
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.deliver_notifications import DeliverNotifications

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class FlakyNotifier:
    """Fails its first ``failures`` sends, then records every notification it accepts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.accepted: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise DependencyUnavailable("webhook")
        self.accepted.append(notification)


async def _announce(unit_of_work: UnitOfWorkFactory, *kinds: NotificationKind) -> None:
    async with unit_of_work() as uow:
        for kind in kinds:
            await uow.outbox.add(Notification(kind, "alice", None, NOW))
        await uow.commit()


async def test_each_change_is_delivered_once_even_when_the_notifier_fails_once(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    kinds = (NotificationKind.AUTHENTICATOR_ADDED, NotificationKind.RECOVERY_CODES_REGENERATED)
    await _announce(unit_of_work, *kinds)
    clock = FrozenClock(NOW)
    notifier = FlakyNotifier(failures=1)
    deliver = DeliverNotifications(unit_of_work=unit_of_work, notifier=notifier, clock=clock)

    assert await deliver() == 1
    assert await deliver() == 0  # the failed one waits for its back-off
    clock.advance(timedelta(seconds=11))
    assert await deliver() == 1
    clock.advance(timedelta(hours=1))
    assert await deliver() == 0
    assert sorted(n.kind for n in notifier.accepted) == sorted(kinds)


async def test_a_claimed_notification_is_not_claimed_again_during_its_lease(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    await _announce(unit_of_work, NotificationKind.LOCKED_OUT)
    async with unit_of_work() as uow:
        first = await uow.outbox.claim(NOW, NOW + timedelta(seconds=30), 10)
        await uow.commit()
    async with unit_of_work() as uow:
        second = await uow.outbox.claim(NOW + timedelta(seconds=5), NOW + timedelta(seconds=35), 10)
        await uow.commit()
    async with unit_of_work() as uow:
        after_lease = await uow.outbox.claim(
            NOW + timedelta(seconds=31), NOW + timedelta(seconds=61), 10
        )
    assert [len(first), len(second), len(after_lease)] == [1, 0, 1]


async def test_rolled_back_changes_announce_nothing(unit_of_work: UnitOfWorkFactory) -> None:
    async with unit_of_work() as uow:
        await uow.outbox.add(Notification(NotificationKind.LOCKED_OUT, "alice", None, NOW))
    notifier = FlakyNotifier(failures=0)
    deliver = DeliverNotifications(
        unit_of_work=unit_of_work, notifier=notifier, clock=FrozenClock(NOW)
    )
    assert await deliver() == 0


async def test_the_backlog_counts_what_is_not_delivered_yet(
    unit_of_work: UnitOfWorkFactory,
) -> None:
    await _announce(unit_of_work, NotificationKind.LOCKED_OUT, NotificationKind.LOCKED_OUT)
    deliver = DeliverNotifications(
        unit_of_work=unit_of_work, notifier=FlakyNotifier(failures=1), clock=FrozenClock(NOW)
    )
    async with unit_of_work() as uow:
        before = await uow.outbox.backlog()

    assert await deliver() == 1
    async with unit_of_work() as uow:
        after = await uow.outbox.backlog()
    assert [before, after] == [2, 1], "the failed one waits for its retry"
