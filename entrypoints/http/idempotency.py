"""``Idempotency-Key`` on POSTs: a retry with the same key and body gets the first answer.

One dependency, ``idempotency``: a handler runs its work through it with a replay policy that says
what is kept of the answer (never a secret) and how a retry is answered from it.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Protocol, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from litestar.params import HeaderParameter

from application.errors import AnswerNotRepeatable, DependencyUnavailable
from application.idempotency import IdempotencyGuard
from application.ports.idempotency import StoredOutcome
from application.ports.token_verifier import Principal
from entrypoints.http.services import services_in

_ACCEPTABLE_KEY = re.compile(r"[\x21-\x7e]{1,255}")

T = TypeVar("T")
S = TypeVar("S", bound=msgspec.Struct)

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description=(
            "Optional. A retry with the same key and body gets the first answer (422 with another "
            "body, 409 while the first request runs). Kept 24 hours."
        ),
        max_length=255,
    ),
]


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What identifies a request for idempotency: method, path and exact body."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


class ReplayPolicy(Protocol[T]):
    """What an idempotent route keeps of its answer, and how it answers a retry from that."""

    def keep(self, answer: T) -> StoredOutcome: ...

    async def replay(self, earlier: StoredOutcome) -> T: ...


@dataclass(frozen=True, slots=True)
class ShownOnce(Generic[T]):
    """The answer holds what may be shown once only (recovery codes, a check of a code that counts
    once): nothing is kept, and a retry gets ``AnswerNotRepeatable`` (409) with ``reason``."""

    reason: str

    def keep(self, answer: T) -> StoredOutcome:
        return StoredOutcome("")

    async def replay(self, earlier: StoredOutcome) -> T:
        raise AnswerNotRepeatable(self.reason)


@dataclass(frozen=True, slots=True)
class StoredBody(Generic[S]):
    """The JSON answer is kept (after ``hide`` took out what must not be stored) and replayed."""

    kind: type[S]
    hide: Callable[[S], S] = lambda answer: answer

    def keep(self, answer: S) -> StoredOutcome:
        return StoredOutcome(msgspec.json.encode(self.hide(answer)).decode())

    async def replay(self, earlier: StoredOutcome) -> S:
        return msgspec.json.decode(earlier.body, type=self.kind)


@dataclass(frozen=True, slots=True)
class CheckedReplay(Generic[T]):
    """``policy``, whose replay first awaits ``check``: what must still hold, or be done, before a
    retry is answered from the first answer (the check raises the retry's error otherwise)."""

    policy: ReplayPolicy[T]
    check: Callable[[], Awaitable[None]]

    def keep(self, answer: T) -> StoredOutcome:
        return self.policy.keep(answer)

    async def replay(self, earlier: StoredOutcome) -> T:
        await self.check()
        return await self.policy.replay(earlier)


class Idempotency:
    """The request's ``Idempotency-Key`` (if any) and the guard that remembers answers per user and
    key. Injected as the ``idempotency`` dependency."""

    def __init__(
        self, request: Request[Principal, Any, Any], guard: IdempotencyGuard, key: str | None
    ) -> None:
        self._request = request
        self._guard = guard
        self._key = key

    async def run(self, work: Callable[[], Awaitable[T]], policy: ReplayPolicy[T]) -> T:
        """``work()``, unless the request carries a key seen before with the same body, in which
        case ``policy`` answers from what it kept of the first answer.

        Raises:
            ValidationException: the key is not 1 to 255 visible ASCII characters (400).
            IdempotencyKeyReused: same key, other body (422).
            IdempotentRequestInFlight: same key, first request still running (409).
        """
        key = self._key
        if key is None:
            return await work()
        if not _ACCEPTABLE_KEY.fullmatch(key):
            message = "must be 1 to 255 visible ASCII characters"
            raise ValidationException(
                detail=f"Idempotency-Key {message}",
                extra=[{"key": "Idempotency-Key", "source": "header", "message": message}],
            )
        request = self._request
        user_id = request.user.subject
        request_fingerprint = fingerprint(request.method, request.url.path, await request.body())
        earlier = await self._guard.begin(user_id, key, request_fingerprint)
        if earlier is not None:
            return await policy.replay(earlier)
        try:
            answer = await work()
        except BaseException:
            with contextlib.suppress(DependencyUnavailable):
                await self._guard.abandon(user_id, key)
            raise
        await self._guard.finish(user_id, key, policy.keep(answer))
        return answer


def provide_idempotency(
    request: Request[Principal, Any, Any], state: State, idempotency_key: IdempotencyKey = None
) -> Idempotency:
    """The ``idempotency`` dependency; it documents the header on the routes that use it."""
    return Idempotency(request, services_in(state).idempotency, idempotency_key)
