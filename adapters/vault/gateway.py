"""hvac is blocking: every call runs in a worker thread, within a concurrency bound and a deadline."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Final, TypeVar

import anyio
import anyio.to_thread
import hvac

from adapters.vault.client import VaultSession
from adapters.vault.errors import translate

T = TypeVar("T")

DEFAULT_MAX_CONCURRENCY: Final = 16
DEADLINE_MARGIN_SECONDS: Final = 0.5
"""Added to the HTTP timeout to get the default deadline of one awaited call."""


class VaultGateway:
    """Runs blocking Vault requests off the event loop and answers every caller within a bound.

    At most ``max_concurrency`` requests run at once; more callers wait for a slot. Each caller gets
    an answer within ``deadline`` seconds (waiting for a slot included; default: the HTTP timeout plus
    half a second). When the deadline passes first, the caller gets DependencyUnavailable and the
    worker thread is abandoned: it ends by itself when the HTTP timeout fires, and its result is
    dropped. Every failure is translated once, by ``adapters.vault.errors``.
    """

    def __init__(
        self,
        session: VaultSession,
        *,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        deadline: float | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if deadline is not None and not deadline > 0:
            raise ValueError("the deadline must be a positive number of seconds")
        self._session = session
        self._limiter = anyio.CapacityLimiter(max_concurrency)
        self._deadline = (
            deadline if deadline is not None else session.timeout + DEADLINE_MARGIN_SECONDS
        )

    @property
    def deadline(self) -> float:
        """The longest any caller waits, in seconds."""
        return self._deadline

    async def login(self) -> None:
        """Logs in now with AppRole credentials (nothing to do for a static token), so that a
        start-up fails fast on wrong credentials. Without it the first call logs in.

        Raises:
            DependencyUnavailable: Vault refused the credentials, or is down, sealed or too slow.
        """
        await self._in_worker("login", self._session.login, about_ciphertexts=False)

    async def call(
        self,
        operation: str,
        request: Callable[[hvac.Client], T],
        *,
        about_ciphertexts: bool = False,
    ) -> T:
        """``request(client)``'s result, run in a worker thread with a working token.

        ``operation`` names the call in logs. ``about_ciphertexts`` lets a refusal of the request mean
        SecretUnreadable (decrypt, rewrap).

        Raises:
            DependencyUnavailable: Vault is sealed, down, slow beyond the deadline, refused the token,
                or lacks the key.
            SecretUnreadable: ``about_ciphertexts`` is set and Vault refused a ciphertext.
        """
        return await self._in_worker(
            operation, partial(self._session.run, request), about_ciphertexts=about_ciphertexts
        )

    async def _in_worker(
        self, operation: str, work: Callable[[], T], *, about_ciphertexts: bool
    ) -> T:
        try:
            with anyio.fail_after(self._deadline):
                return await anyio.to_thread.run_sync(
                    work, abandon_on_cancel=True, limiter=self._limiter
                )
        except Exception as error:
            translated = translate(error, operation=operation, about_ciphertexts=about_ciphertexts)
            if translated is None:
                raise
            raise translated from None
