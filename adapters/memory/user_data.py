"""Everything of one user in the memory store: the helpdesk's view and erasure."""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING

from application.ports.user_data import ErasureReport
from domain.throttle import AttemptThrottle

if TYPE_CHECKING:
    from adapters.memory.store import MemoryStore, _Staged


class MemoryUserDataRepository:
    def __init__(self, store: MemoryStore, staged: _Staged) -> None:
        self._store = store
        self._staged = staged

    async def is_known(self, user_id: str) -> bool:
        store = self._store
        return (
            any(e.user_id == user_id for e in store.enrollments.values())
            or bool(store.recovery_codes.get(user_id))
            or user_id in store.throttles
        )

    async def throttle_of(self, user_id: str) -> AttemptThrottle | None:
        found = self._store.throttles.get(user_id)
        return copy.copy(found) if found is not None else None

    async def erase(self, user_id: str, pseudonym: str) -> ErasureReport:
        store = self._store
        self._staged.erasures.append((user_id, pseudonym))
        return ErasureReport(
            enrollments=sum(1 for e in store.enrollments.values() if e.user_id == user_id),
            recovery_codes=len(store.recovery_codes.get(user_id, [])),
            throttles=int(user_id in store.throttles),
            notifications=sum(1 for n in store.outbox if n.notification.user_id == user_id),
            idempotency_records=sum(1 for user, _ in store.idempotency if user == user_id),
            audit_events_pseudonymised=sum(
                1 for e in store.audit_events if user_id in (e.user_id, e.actor)
            ),
        )


def apply_erasure(store: MemoryStore, user_id: str, pseudonym: str) -> None:
    """Removes the user's data from ``store`` and pseudonymises their audit events."""
    store.enrollments = {k: e for k, e in store.enrollments.items() if e.user_id != user_id}
    store.recovery_codes.pop(user_id, None)
    store.throttles.pop(user_id, None)
    store.outbox = [n for n in store.outbox if n.notification.user_id != user_id]
    store.idempotency = {k: r for k, r in store.idempotency.items() if k[0] != user_id}
    store.audit_events = [
        dataclasses.replace(
            event,
            user_id=pseudonym if event.user_id == user_id else event.user_id,
            actor=pseudonym if event.actor == user_id else event.actor,
        )
        for event in store.audit_events
    ]
