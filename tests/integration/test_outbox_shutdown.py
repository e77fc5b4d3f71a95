"""A stopping worker lets the outbox batch in hand finish instead of cutting it off (a cut batch is
sent again only when its lease ends, 30 s later, by another worker)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from application.ports.notifications import Notification, NotificationKind
from entrypoints.composition import Overrides, build_services
from entrypoints.composition.adapters import database_engine
from entrypoints.settings import Settings
from tests.support.waiting import CEILING_SECONDS


class _HeldNotifier:
    """Sends only when released, so that the test can stop the worker mid-batch."""

    def __init__(self) -> None:
        self.sending = asyncio.Event()
        self.release = asyncio.Event()
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        self.sending.set()
        await self.release.wait()
        self.sent.append(notification)


async def test_stopping_waits_for_the_batch_in_hand(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'mfa.sqlite3'}",
        local_key_file=tmp_path / "secret-encryption.key",
        notify_interval_seconds=0.1,
    )
    notifier = _HeldNotifier()
    notification = Notification(
        NotificationKind.AUTHENTICATOR_ADDED, "alice", None, datetime.now(UTC)
    )
    services = build_services(settings, Overrides(notifier=notifier))
    await services.__aenter__()
    engine = database_engine(settings)
    try:
        unit_of_work = SqlUnitOfWorkFactory(engine)
        async with unit_of_work() as uow:
            await uow.outbox.add(notification)
            await uow.commit()
        await asyncio.wait_for(notifier.sending.wait(), CEILING_SECONDS)

        stopping = asyncio.create_task(services.__aexit__(None, None, None))
        await asyncio.sleep(0)
        assert not stopping.done(), "the worker stopped without waiting for its batch"
        notifier.release.set()
        await asyncio.wait_for(stopping, CEILING_SECONDS)

        assert notifier.sent == [notification]
        async with unit_of_work() as uow:
            now = datetime.now(UTC)
            assert await uow.outbox.claim(now, now, 10) == [], "the batch was not marked delivered"
    finally:
        await engine.dispose()
