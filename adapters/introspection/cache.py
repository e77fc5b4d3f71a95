"""A bounded cache of introspection outcomes, keyed by a hash of the token, with one request in
flight per token."""

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from adapters.introspection.answer import Accepted, Refusal

DEFAULT_MAX_ENTRIES: Final = 10_000
DEFAULT_REFUSAL_SECONDS: Final = 5.0

Outcome = Accepted | Refusal
"""What introspection decided about a token: who it names and until when, or why it is refused."""


def token_key(token: str) -> bytes:
    """The cache key of ``token``: its SHA-256, so the cache never holds a token."""
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class _Entry:
    outcome: Outcome
    until: float


class IntrospectionCache:
    """Outcomes kept for at most ``max_age_seconds``, an accepted token never past its ``exp``, a
    refusal for ``refusal_seconds`` (at most ``max_age_seconds``).

    Holds at most ``max_entries`` outcomes, dropping the least recently used. Concurrent lookups of
    one token share one ``load`` (no stampede on the identity provider); a failed ``load`` (its
    exception reaches every waiter) is not cached, so the next lookup asks again. A waiter that is
    cancelled does not cancel the shared ``load``. ``max_age_seconds`` of 0 caches nothing but
    still shares concurrent loads.
    """

    def __init__(
        self,
        *,
        max_age_seconds: float,
        now: Callable[[], float],
        refusal_seconds: float = DEFAULT_REFUSAL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        if max_age_seconds < 0 or refusal_seconds < 0 or max_entries <= 0:
            raise ValueError("cache ages must not be negative and max_entries must be positive")
        self._max_age = max_age_seconds
        self._refusal_age = min(refusal_seconds, max_age_seconds)
        self._now = now
        self._max_entries = max_entries
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._loading: dict[bytes, asyncio.Future[Outcome]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def outcome(self, key: bytes, load: Callable[[], Awaitable[Outcome]]) -> Outcome:
        """The cached outcome for ``key``, else the outcome of ``load()`` (shared, then cached).

        Raises whatever ``load`` raises.
        """
        entry = self._entries.get(key)
        if entry is not None:
            if self._now() < entry.until:
                self._entries.move_to_end(key)
                return entry.outcome
            del self._entries[key]
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._load(key, load))
            self._loading[key] = loading
            loading.add_done_callback(self._loaded(key))
        return await asyncio.shield(loading)

    async def _load(self, key: bytes, load: Callable[[], Awaitable[Outcome]]) -> Outcome:
        outcome = await load()
        until = self._until(outcome)
        if until > self._now():
            self._entries[key] = _Entry(outcome, until)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return outcome

    def _until(self, outcome: Outcome) -> float:
        now = self._now()
        if isinstance(outcome, Accepted):
            return min(now + self._max_age, outcome.expires_at)
        return now + self._refusal_age

    def _loaded(self, key: bytes) -> Callable[[asyncio.Future[Outcome]], None]:
        def forget(loading: asyncio.Future[Outcome]) -> None:
            if self._loading.get(key) is loading:
                del self._loading[key]
            # Every waiter may have been cancelled: mark the failure as seen, or asyncio logs it.
            if not loading.cancelled():
                loading.exception()

        return forget
