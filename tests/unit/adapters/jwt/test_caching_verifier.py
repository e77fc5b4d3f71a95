"""The cache of verified tokens: used until ``exp`` and never after, dropped when the key set
changes, bounded (least recently used first out), and holding only tokens that passed every check.

A hit is seen as a full verification not happening: the verifier below counts them.
"""

from typing import Any

import pytest
from joserfc.jwk import RSAKey

from adapters.jwt.caching_verifier import CachingTokenVerifier
from adapters.jwt.verifier import JwtTokenVerifier, VerifiedToken
from application.errors import InsufficientScope, InvalidToken
from tests.unit.adapters.jwt.support import (
    AUDIENCE,
    ISSUER,
    NOW,
    SUBJECT,
    Clock,
    MemorySource,
    claims,
    public_jwks,
    sign,
)

COOLDOWN = 60
TTL = 600


class CountingVerifier(JwtTokenVerifier):
    """The real verifier, counting its full verifications."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.full_checks = 0

    async def verified(self, token: str) -> VerifiedToken:
        self.full_checks += 1
        return await super().verified(token)


def counting_verifier(source: MemorySource, clock: Clock, **options: Any) -> CountingVerifier:
    return CountingVerifier(
        source=source,
        issuer=ISSUER,
        audience=AUDIENCE,
        now=clock,
        refetch_cooldown_seconds=COOLDOWN,
        cache_ttl_seconds=TTL,
        **options,
    )


def token(key: RSAKey, **overrides: Any) -> str:
    return sign(key, "RS256", claims(**overrides))


async def test_a_verified_token_is_answered_from_the_cache(rsa_key: RSAKey, clock: Clock) -> None:
    verifier = counting_verifier(MemorySource(rsa_key), clock)
    cached = CachingTokenVerifier(verifier, max_entries=10)
    bearer = token(rsa_key)

    first = await cached.verify(bearer)
    again = [await cached.verify(bearer) for _ in range(5)]

    assert first.subject == SUBJECT
    assert again == [first] * 5
    assert verifier.full_checks == 1
    assert len(cached) == 1


async def test_an_entry_is_never_used_at_or_after_exp(rsa_key: RSAKey, clock: Clock) -> None:
    verifier = counting_verifier(MemorySource(rsa_key), clock)
    cached = CachingTokenVerifier(verifier)
    bearer = token(rsa_key, exp=NOW + 60)
    await cached.verify(bearer)

    clock.advance(59.5)
    await cached.verify(bearer)
    assert verifier.full_checks == 1

    clock.advance(0.5)  # now == exp: the token has expired (SECURITY.md B2: `exp` exactly)
    with pytest.raises(InvalidToken, match="expired"):
        await cached.verify(bearer)
    assert verifier.full_checks == 2
    assert len(cached) == 0


async def test_entries_are_dropped_when_a_fetch_brings_other_keys(
    rsa_key: RSAKey, other_rsa_key: RSAKey, clock: Clock
) -> None:
    source = MemorySource(rsa_key)
    verifier = counting_verifier(source, clock)
    cached = CachingTokenVerifier(verifier)
    old = token(rsa_key, exp=NOW + 3600)
    await cached.verify(old)

    # The identity provider rotates: the old key is withdrawn, a token under the new one arrives.
    source.document = public_jwks(other_rsa_key)
    clock.advance(COOLDOWN)
    assert (await cached.verify(token(other_rsa_key, exp=NOW + 3600))).subject == SUBJECT
    assert source.fetches == 2

    with pytest.raises(InvalidToken, match="unknown signing key"):
        await cached.verify(old)


async def test_keys_due_for_refresh_are_refreshed_before_any_entry_is_used(
    rsa_key: RSAKey, other_rsa_key: RSAKey, clock: Clock
) -> None:
    source = MemorySource(rsa_key)
    verifier = counting_verifier(source, clock)
    cached = CachingTokenVerifier(verifier)
    old = token(rsa_key, exp=NOW + 3600)
    await cached.verify(old)

    source.document = public_jwks(other_rsa_key)
    clock.advance(TTL)
    with pytest.raises(InvalidToken, match="unknown signing key"):
        await cached.verify(old)
    assert source.fetches == 2


async def test_an_unchanged_key_set_keeps_the_entries(rsa_key: RSAKey, clock: Clock) -> None:
    source = MemorySource(rsa_key)
    verifier = counting_verifier(source, clock)
    cached = CachingTokenVerifier(verifier)
    bearer = token(rsa_key, exp=NOW + 3600)
    await cached.verify(bearer)

    clock.advance(TTL)
    await cached.verify(bearer)  # keys due: a full check, which refetches the same keys
    await cached.verify(bearer)

    assert source.fetches == 2
    assert verifier.full_checks == 2


async def test_the_cache_is_bounded_and_drops_the_least_recently_used(
    rsa_key: RSAKey, clock: Clock
) -> None:
    verifier = counting_verifier(MemorySource(rsa_key), clock)
    cached = CachingTokenVerifier(verifier, max_entries=3)
    first, second, third, fourth = (token(rsa_key, jti=f"token-{n}") for n in range(4))
    for bearer in (first, second, third):
        await cached.verify(bearer)
    await cached.verify(first)  # now the most recently used

    await cached.verify(fourth)
    assert len(cached) == 3
    checks = verifier.full_checks

    await cached.verify(first)
    await cached.verify(third)
    assert verifier.full_checks == checks
    await cached.verify(second)
    assert verifier.full_checks == checks + 1
    assert len(cached) == 3


async def test_refused_tokens_are_checked_every_time(
    rsa_key: RSAKey, other_rsa_key: RSAKey, clock: Clock
) -> None:
    verifier = counting_verifier(MemorySource(rsa_key), clock, required_scope="mfa")
    cached = CachingTokenVerifier(verifier)
    lacking_scope = token(rsa_key, scope="profile")
    forged = sign(other_rsa_key, "RS256", claims(), kid=rsa_key.kid)

    for _ in range(3):
        with pytest.raises(InsufficientScope):
            await cached.verify(lacking_scope)
        with pytest.raises(InvalidToken):
            await cached.verify(forged)

    assert verifier.full_checks == 6
    assert len(cached) == 0


def test_a_bound_below_one_is_refused(rsa_key: RSAKey, clock: Clock) -> None:
    with pytest.raises(ValueError, match="max_entries"):
        CachingTokenVerifier(counting_verifier(MemorySource(rsa_key), clock), max_entries=0)
