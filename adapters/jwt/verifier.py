"""Bearer access token verification (JWS compact JWTs signed by the identity provider), on joserfc.

The rules are SECURITY.md B1-B4. The order of checks is: size and shape, header (algorithm
allow-list, no ``crit``, well-formed ``kid``), key lookup in the cached key set only, signature
(joserfc), claims. ``jku``, ``x5u``, ``jwk`` and ``x5c`` headers are never used.
"""

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet
from joserfc.jws import JWSRegistry
from joserfc.util import urlsafe_b64decode

from adapters.jwt.jwks_source import JwksSource, JwksUnavailable
from adapters.token_claims import (
    MalformedScope,
    audience_contains,
    is_list_of_str,
    is_numeric_date,
    scopes_of,
)
from application.errors import DependencyUnavailable, InsufficientScope, InvalidToken
from application.ports.token_verifier import Principal, is_acceptable_subject

logger = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""Every algorithm the verifier can be configured to accept; ``none`` and HS* are never allowed."""

DEFAULT_ALGORITHMS: Final = ("RS256", "ES256", "EdDSA")

MAX_KID_LENGTH: Final = 128
KEYS_DEPENDENCY: Final = "identity provider keys"

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_KID = re.compile(rf"[\x21-\x7e]{{1,{MAX_KID_LENGTH}}}")
# Errors that parsing or verifying attacker-controlled input can raise, besides joserfc's own.
# binascii.Error is a ValueError; RecursionError comes from deeply nested JSON.
_MALFORMED_INPUT_ERRORS: Final = (
    JoseError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    RecursionError,
)


KEYS_FRESH_SECONDS: Final = 1.0
"""Keys fetched this recently are as new as they get: an unknown kid does not fetch them again."""


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    principal: Principal
    expires_at: float
    """The token's ``exp`` (epoch seconds)."""
    key_set_version: int
    """The version of the key set that held the key the signature verified with."""


class JwtTokenVerifier:
    """Verifies bearer JWTs against the identity provider's JWKS; implements ``TokenVerifier``.

    Guarantees: a returned ``Principal`` comes from a token whose signature verifies with a key
    from the configured source under an allowed asymmetric algorithm, whose ``iss`` equals
    ``issuer``, whose ``aud`` contains ``audience``, that has not expired and is already valid
    (``exp`` exactly; ``nbf`` and ``iat`` with ``leeway_seconds`` of tolerance, SECURITY.md B2) and
    that names a subject.

    Keys are cached for ``cache_ttl_seconds``; a failed refresh keeps the cached keys. A token whose
    ``kid`` is unknown triggers at most one refetch per ``refetch_cooldown_seconds`` across all
    requests (counted from the last such refetch), which is how a rotation is picked up.
    Concurrent requests share one fetch.
    """

    def __init__(
        self,
        *,
        source: JwksSource,
        issuer: str,
        audience: str,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        leeway_seconds: int = 30,
        now: Callable[[], float] = time.time,
        refetch_cooldown_seconds: float = 60,
        cache_ttl_seconds: float = 600,
        max_token_bytes: int = 8192,
        required_scope: str | None = None,
        display_name_claim: str = "preferred_username",
    ) -> None:
        """Raises ValueError for a configuration that would weaken verification.

        That is: an empty or non-asymmetric algorithm list (``none``, HS*), an empty issuer or
        audience, or a negative or zero limit.
        """
        refused = [alg for alg in algorithms if alg not in ASYMMETRIC_ALGORITHMS]
        if refused or not algorithms:
            raise ValueError(
                f"algorithms must be a non-empty subset of {sorted(ASYMMETRIC_ALGORITHMS)}"
            )
        if not issuer or not audience:
            raise ValueError("issuer and audience must be non-empty")
        if leeway_seconds < 0 or refetch_cooldown_seconds < 0:
            raise ValueError("leeway_seconds and refetch_cooldown_seconds must not be negative")
        if cache_ttl_seconds <= 0 or max_token_bytes <= 0:
            raise ValueError("cache_ttl_seconds and max_token_bytes must be positive")
        self._source = source
        self._issuer = issuer
        self._audience = audience
        self._algorithms = frozenset(algorithms)
        # strict_check_header=False: unknown non-critical header parameters are ignored (RFC 7515
        # §4); `crit` is refused before joserfc sees the token.
        self._registry = JWSRegistry(algorithms=list(self._algorithms), strict_check_header=False)
        self._leeway = leeway_seconds
        self._now = now
        self._refetch_cooldown = refetch_cooldown_seconds
        self._cache_ttl = cache_ttl_seconds
        self._max_token_bytes = max_token_bytes
        self._required_scope = required_scope
        self._display_name_claim = display_name_claim

        self._lock = asyncio.Lock()
        self._keys: KeySet | None = None
        self._keys_fetched_at = -math.inf
        self._last_fetch_attempt = -math.inf
        self._last_unknown_kid_refetch = -math.inf
        self._fetch_generation = 0
        self._key_set_version = 0
        """Grows each time a fetch brings a key set that differs from the one cached."""

    async def verify(self, token: str) -> Principal:
        """The principal the token names, once signature and claims are checked.

        Raises:
            InvalidToken: anything wrong with the token; the message is short and never quotes it.
            InsufficientScope: the token is valid but lacks ``required_scope``.
            DependencyUnavailable: no keys are cached and the key source cannot be read.
        """
        return (await self.verified(token)).principal

    async def verified(self, token: str) -> VerifiedToken:
        """``verify``, and what a cache needs to keep its outcome (``CachingTokenVerifier``)."""
        alg, kid = self._checked_header(token)
        key = await self._key_for(alg, kid)
        key_set_version = self._key_set_version  # of the set ``key`` came from: no await between
        claims = self._verified_claims(token, key)
        principal = self._principal(claims)
        if self._required_scope is not None and self._required_scope not in principal.scopes:
            raise InsufficientScope(f"the token lacks the scope {self._required_scope!r}")
        return VerifiedToken(principal, float(claims["exp"]), key_set_version)

    def key_set_version(self) -> int | None:
        """The version of the cached key set (it changes whenever a fetch brings different keys),
        or None when no keys are cached or they are due for a refresh: then only a full
        verification, which refreshes them, may be trusted."""
        if self._keys is None or self._refresh_due(self._now()):
            return None
        return self._key_set_version

    def now(self) -> float:
        """The verifier's clock (epoch seconds)."""
        return self._now()

    # --- header -------------------------------------------------------------------------------

    def _checked_header(self, token: object) -> tuple[str, str | None]:
        if not isinstance(token, str) or len(token) > self._max_token_bytes:
            raise InvalidToken("malformed token")
        if _COMPACT_JWS.fullmatch(token) is None:
            raise InvalidToken("malformed token")
        try:
            header: Any = json.loads(urlsafe_b64decode(token.split(".", 1)[0].encode("ascii")))
        except _MALFORMED_INPUT_ERRORS as error:
            raise InvalidToken("malformed token header") from error
        if not isinstance(header, dict):
            raise InvalidToken("malformed token header")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise InvalidToken("token algorithm not allowed")
        if "crit" in header:
            raise InvalidToken("critical token header parameters are not supported")
        kid = header.get("kid")
        if kid is not None and (not isinstance(kid, str) or _KID.fullmatch(kid) is None):
            raise InvalidToken("malformed key id")
        return alg, kid

    # --- keys ---------------------------------------------------------------------------------

    async def _key_for(self, alg: str, kid: str | None) -> Key:
        keys = await self._cached_keys()
        key = _find_key(keys, alg, kid)
        # Join a fetch already in flight (it may bring the new key); otherwise refetch only once the
        # cool-down has passed, so a spray of unknown kids cannot hammer the identity provider.
        # The cool-down counts from the last refetch an unknown kid caused, not from any fetch: a
        # replica that fetched its keys moments before the identity provider rotated them must
        # still pick up the new key at its first token, not refuse it for a whole cool-down.
        now = self._now()
        cooled_down = (
            now - self._last_unknown_kid_refetch >= self._refetch_cooldown
            and now - self._last_fetch_attempt >= KEYS_FRESH_SECONDS
        )
        if key is None and (self._lock.locked() or cooled_down):
            if not self._lock.locked():
                self._last_unknown_kid_refetch = now
            await self._refresh("unknown key id")
            key = _find_key(self._keys or keys, alg, kid)
        if key is None:
            raise InvalidToken("unknown signing key")
        return key

    async def _cached_keys(self) -> KeySet:
        now = self._now()
        if self._keys is None:
            await self._refresh("no keys cached")
        elif self._refresh_due(now):
            await self._refresh("cached keys expired")
        if self._keys is None:
            raise DependencyUnavailable(KEYS_DEPENDENCY)
        return self._keys

    def _refresh_due(self, now: float) -> bool:
        return (
            now - self._keys_fetched_at >= self._cache_ttl
            and now - self._last_fetch_attempt >= self._refetch_cooldown
        )

    async def _refresh(self, reason: str) -> None:
        """Fetch the key set once; callers that queued behind a completed fetch reuse its outcome.

        On failure the cached keys (if any) stay in use and the failure is logged. A fetch that was
        cancelled has no outcome, so the next caller in the queue fetches instead.
        """
        generation = self._fetch_generation
        async with self._lock:
            if generation != self._fetch_generation:
                return
            self._last_fetch_attempt = self._now()
            try:
                keys = await self._source.fetch()
            except JwksUnavailable as error:
                self._fetch_generation += 1
                if self._keys is None:
                    logger.error("JWKS fetch failed (%s), no keys cached: %s", reason, error)
                else:
                    logger.warning("JWKS fetch failed (%s), keeping cached keys: %s", reason, error)
                return
            self._fetch_generation += 1
            if self._keys is None or _public_keys(self._keys) != _public_keys(keys):
                self._key_set_version += 1
            self._keys = keys
            self._keys_fetched_at = self._now()
            logger.info("JWKS fetched (%s): %d keys", reason, len(keys.keys))

    # --- signature and claims -----------------------------------------------------------------

    def _verified_claims(self, token: str, key: Key) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, key, registry=self._registry).claims
        except _MALFORMED_INPUT_ERRORS as error:
            raise InvalidToken("token signature or encoding invalid") from error
        now = self._now()
        if claims.get("iss") != self._issuer:
            raise InvalidToken("token issuer not accepted")
        if not audience_contains(claims.get("aud"), self._audience):
            raise InvalidToken("token audience not accepted")
        exp = claims.get("exp")
        if not is_numeric_date(exp):
            raise InvalidToken("token expiry missing or malformed")
        if now >= exp:
            raise InvalidToken("token expired")
        for name in ("nbf", "iat"):
            if name not in claims:
                continue
            value = claims[name]
            if not is_numeric_date(value):
                raise InvalidToken(f"token {name} malformed")
            if value > now + self._leeway:
                raise InvalidToken(f"token {name} is in the future")
        return claims

    def _principal(self, claims: dict[str, Any]) -> Principal:
        subject = claims.get("sub")
        if not is_acceptable_subject(subject):
            raise InvalidToken("token subject missing or malformed")
        display_name = claims.get(self._display_name_claim)
        auth_time = claims.get("auth_time")
        if "auth_time" in claims and not is_numeric_date(auth_time):
            raise InvalidToken("token auth_time malformed")
        amr = claims.get("amr", [])
        if not is_list_of_str(amr):
            raise InvalidToken("token amr malformed")
        acr = claims.get("acr")
        if acr is not None and not isinstance(acr, str):
            raise InvalidToken("token acr malformed")
        return Principal(
            subject=subject,
            display_name=display_name if isinstance(display_name, str) and display_name else None,
            auth_time=None if auth_time is None else int(auth_time),
            scopes=_scopes(claims),
            amr=tuple(amr),
            acr=acr,
        )


def _find_key(keys: KeySet, alg: str, kid: str | None) -> Key | None:
    """The one key of the set that can verify ``alg`` and carries ``kid``, by exact match only.

    Without a ``kid`` a key is used only when it is the single key of the set suited to ``alg``.
    """
    suited = [key for key in keys if JWSRegistry.filter_algorithms(key, [alg])]
    if kid is not None:
        suited = [key for key in suited if key.kid == kid]
    return suited[0] if len(suited) == 1 else None


def _public_keys(keys: KeySet) -> str:
    return json.dumps(keys.as_dict(private=False), sort_keys=True)


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    try:
        return scopes_of(claims)
    except MalformedScope as malformed:
        raise InvalidToken(str(malformed)) from None
