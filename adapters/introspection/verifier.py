"""Bearer access tokens the service cannot read itself, checked by asking the identity provider
(RFC 7662 token introspection), with the outcome cached."""

import logging
import re
from collections.abc import Callable
from typing import Any, Final, Protocol

from adapters.introspection.answer import Accepted, AnswerRules, Refusal, Refused, read_answer
from adapters.introspection.cache import IntrospectionCache, Outcome, token_key
from adapters.introspection.client import IntrospectionUnavailable
from application.errors import DependencyUnavailable, InsufficientScope, InvalidToken
from application.ports.token_verifier import Principal

logger = logging.getLogger(__name__)

INTROSPECTION_DEPENDENCY: Final = "identity provider introspection"
DEFAULT_MAX_TOKEN_BYTES: Final = 8192

_B64TOKEN: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
"""RFC 6750 §2.1 ``b64token``: what may follow ``Bearer``; nothing else is sent to the provider."""


class Introspector(Protocol):
    """Asks the identity provider about a token (``IntrospectionClient``)."""

    async def introspect(self, token: str) -> dict[str, Any]:
        """The answer, a JSON object whose ``active`` is a boolean.

        Raises:
            IntrospectionUnavailable: no usable answer.
        """
        ...


class IntrospectionTokenVerifier:
    """Implements ``TokenVerifier`` for opaque tokens.

    Guarantees: a returned ``Principal`` comes from an answer of the identity provider that said
    ``active: true`` and passed ``AnswerRules`` (its issuer, our audience, a future ``exp``, a
    subject), within the cache's ages (never past the token's ``exp``). A token the provider says is
    inactive is refused; whether it is unknown, revoked or expired is the provider's business.
    """

    def __init__(
        self,
        *,
        introspector: Introspector,
        rules: AnswerRules,
        cache: IntrospectionCache,
        now: Callable[[], float],
        required_scope: str | None = None,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
    ) -> None:
        self._introspector = introspector
        self._rules = rules
        self._cache = cache
        self._now = now
        self._required_scope = required_scope
        self._max_token_bytes = max_token_bytes

    async def verify(self, token: str) -> Principal:
        """The principal the identity provider says the token names.

        Raises:
            InvalidToken: a token that is not an RFC 6750 b64token or too long (never sent), or that
                the provider says is inactive, or whose answer breaks ``AnswerRules``.
            InsufficientScope: the token is valid but lacks ``required_scope``.
            DependencyUnavailable: the provider did not answer within the timeout, refused this
                service's credentials, or answered something that is not an RFC 7662 answer.
        """
        if len(token) > self._max_token_bytes or _B64TOKEN.fullmatch(token) is None:
            raise InvalidToken("malformed token")
        try:
            outcome = await self._cache.outcome(token_key(token), lambda: self._introspect(token))
        except DependencyUnavailable as shared:
            # Concurrent checks of one token share one failure: each raises its own copy.
            raise DependencyUnavailable(
                shared.dependency, shared.retry_after, cause=shared.cause
            ) from shared.__cause__
        if isinstance(outcome, Refusal):
            raise InvalidToken(outcome.reason)
        if self._now() >= outcome.expires_at:
            raise InvalidToken("token expired")
        principal = outcome.principal
        if self._required_scope is not None and self._required_scope not in principal.scopes:
            raise InsufficientScope(f"the token lacks the scope {self._required_scope!r}")
        return principal

    async def _introspect(self, token: str) -> Outcome:
        try:
            answer = await self._introspector.introspect(token)
        except IntrospectionUnavailable as error:
            if error.malformed:
                logger.error("token introspection failed: %s", error)
            else:
                logger.warning("token introspection unavailable: %s", error)
            raise DependencyUnavailable(INTROSPECTION_DEPENDENCY, cause=str(error)) from error
        try:
            accepted: Accepted = read_answer(answer, self._rules, self._now())
        except Refused as refused:
            if answer.get("active") is True:
                logger.warning("introspection: an active token refused: %s", refused)
            return Refusal(str(refused))
        return accepted
