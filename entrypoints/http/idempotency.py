"""``Idempotency-Key`` on POSTs: a retry with the same key and body gets the first answer."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from litestar import Request
from litestar.params import HeaderParameter

from application.errors import DependencyUnavailable
from application.ports.idempotency import StoredOutcome
from application.ports.token_verifier import Principal
from entrypoints.http.problems import MalformedBody
from entrypoints.http.services import services_of

_ACCEPTABLE_KEY = re.compile(r"[\x21-\x7e]{1,255}")

T = TypeVar("T")

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


async def idempotently(
    request: Request[Principal, Any, Any],
    key: str | None,
    run: Callable[[], Awaitable[T]],
    keep: Callable[[T], StoredOutcome],
    replay: Callable[[StoredOutcome], Awaitable[T]],
) -> T:
    """``run()``, unless the request carries an Idempotency-Key seen before with the same body, in
    which case ``replay`` rebuilds the first answer from what ``keep`` stored (never a secret).

    Raises:
        MalformedBody: the key is not 1 to 255 visible ASCII characters.
        IdempotencyKeyReused: same key, other body (422).
        IdempotentRequestInFlight: same key, first request still running (409).
    """
    if key is None:
        return await run()
    if not _ACCEPTABLE_KEY.fullmatch(key):
        raise MalformedBody("Idempotency-Key must be 1 to 255 visible ASCII characters")
    guard = services_of(request.app).idempotency
    user_id = request.user.subject
    request_fingerprint = fingerprint(request.method, request.url.path, await request.body())
    earlier = await guard.begin(user_id, key, request_fingerprint)
    if earlier is not None:
        return await replay(earlier)
    try:
        result = await run()
    except BaseException:
        with contextlib.suppress(DependencyUnavailable):
            await guard.abandon(user_id, key)
        raise
    await guard.finish(user_id, key, keep(result))
    return result
