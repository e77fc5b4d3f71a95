"""One async Vault client per process: the pooled transport, a token kept fresh, and a deadline.

Kubernetes, AppRole, a token file and a plain token are the four kinds of credentials
(``adapters.vault.settings``); ``adapters.vault.token`` keeps the token fresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

import httpx

from adapters.vault.errors import status_failure, unavailable
from adapters.vault.settings import VaultSettings
from adapters.vault.token import TokenKeeper
from adapters.vault.transport import DEFAULT_MAX_CONNECTIONS, VaultAnswer, VaultTransport

DEADLINE_MARGIN_SECONDS: Final = 0.5
"""Added to the HTTP timeout to get the default deadline of one call."""


class VaultClient:
    """Sends authenticated requests to Vault and answers every caller within a bound.

    At most ``max_connections`` requests are in flight at once; more callers wait for a connection.
    Each caller gets an answer within ``deadline`` seconds (waiting for a connection and a login
    included; default: the HTTP timeout plus half a second). A request refused with 403 is sent
    once more if a new token could be had (a login, or a token file that changed). Every failure
    is translated once, by ``adapters.vault.errors``. ``transport`` replaces the network in tests.
    """

    def __init__(
        self,
        settings: VaultSettings,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        deadline: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if deadline is not None and not deadline > 0:
            raise ValueError("the deadline must be a positive number of seconds")
        self._deadline = (
            deadline if deadline is not None else settings.timeout + DEADLINE_MARGIN_SECONDS
        )
        self._transport = VaultTransport(
            settings, max_connections=max_connections, transport=transport
        )
        self._token = TokenKeeper(settings.auth, self._transport, deadline=self._deadline)

    @property
    def deadline(self) -> float:
        """The longest any caller waits, in seconds."""
        return self._deadline

    async def login(self) -> None:
        """Obtains the token now (logs in, or reads the token file), so that a start-up fails fast
        on wrong credentials. Without it the first request does.

        Raises:
            DependencyUnavailable: Vault refused the credentials, is down, sealed or too slow, or
                the token file cannot be read.
        """
        async with _within(self._deadline, "login"):
            await self._token.token()

    async def request(
        self,
        operation: str,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        about_ciphertexts: bool = False,
        authenticated: bool = True,
    ) -> Mapping[str, Any]:
        """The JSON body of Vault's successful answer to ``method`` ``path`` (under ``/v1/``).

        ``operation`` names the call in logs. ``about_ciphertexts`` lets a refusal of the request
        mean SecretUnreadable (decrypt, rewrap). A 400 that carries ``data.batch_results`` is a
        transit batch with failed items: an answer, returned as such.

        Raises:
            DependencyUnavailable: Vault is sealed, down, slow beyond the deadline, refused the
                token, lacks the key, or answered something else than a JSON object.
            SecretUnreadable: ``about_ciphertexts`` is set and Vault refused a ciphertext.
        """
        async with _within(self._deadline, operation):
            answer = await self._send(operation, method, path, body, authenticated=authenticated)
        if answer.status == 200 or (answer.status == 400 and _has_batch_results(answer.body)):
            if answer.body is None:
                raise unavailable(operation, "unexpected answer: no JSON object") from None
            return answer.body
        raise status_failure(
            answer.status, answer.body, operation=operation, about_ciphertexts=about_ciphertexts
        ) from None

    async def aclose(self) -> None:
        """Stops keeping the token fresh and closes the pooled connections."""
        await self._token.aclose()
        await self._transport.aclose()

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        *,
        authenticated: bool,
    ) -> VaultAnswer:
        if not authenticated:
            return await self._transport.send(operation, method, path, body=body)
        token = await self._token.token()
        answer = await self._transport.send(operation, method, path, token=token, body=body)
        if answer.status == 403 and await self._token.replace(token):
            answer = await self._transport.send(
                operation, method, path, token=await self._token.token(), body=body
            )
        return answer


@asynccontextmanager
async def _within(seconds: float, operation: str) -> AsyncIterator[None]:
    """``asyncio.timeout``, whose expiry is DependencyUnavailable for ``operation``."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise unavailable(operation, "no answer within the deadline") from None


def _has_batch_results(body: Mapping[str, Any] | None) -> bool:
    data = body.get("data") if body is not None else None
    return isinstance(data, Mapping) and isinstance(data.get("batch_results"), list)
