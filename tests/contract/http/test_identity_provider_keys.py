"""The identity provider's keys, read from its JWKS URL (SECURITY.md B3): cached, refetched at most once
per cool-down for unknown key ids, a rotation picked up, and no keys at all is a 503, never a pass."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time

import httpx
import pytest

from tests.contract.http.api import ENROLLMENTS, assert_invalid_token, assert_problem, bearer
from tests.contract.http.harness import Clock, KeysByUrl, MintToken
from tests.contract.http.tokens import SigningKey

COOL_DOWN_SECONDS = 60
"""How long the service waits between two fetches caused by unknown key ids (adapters/jwt)."""
SPRAY = 1000
UNAVAILABLE_WITHIN_SECONDS = 5.0
"""API.md: a dependency that is down is a 503 within a bounded time (about 2 s); with slack."""


async def _spray_unknown_kids(keys: KeysByUrl, subject: str, now: float) -> None:
    """A thousand tokens, each naming a key id nobody published, fifty at a time."""
    stranger = SigningKey.generate()
    claims = keys.issuer.claims(subject, now)
    tokens = [
        stranger.sign({"alg": stranger.alg, "kid": secrets.token_urlsafe(12)}, claims)
        for _ in range(SPRAY)
    ]
    for start in range(0, SPRAY, 50):
        answers = await asyncio.gather(
            *(keys.client.get(ENROLLMENTS, headers=bearer(t)) for t in tokens[start : start + 50])
        )
        for answer in answers:
            assert_invalid_token(answer)


@pytest.mark.needs_control
async def test_a_spray_of_unknown_kids_refetches_the_keys_at_most_once(
    keys_by_url: KeysByUrl, subject: str
) -> None:
    genuine = keys_by_url.issuer.mint(subject)
    assert (await keys_by_url.client.get(ENROLLMENTS, headers=bearer(genuine))).status_code == 200
    fetched_before = keys_by_url.jwks.requests

    await _spray_unknown_kids(keys_by_url, subject, time.time())

    assert fetched_before >= 1
    assert keys_by_url.jwks.requests - fetched_before <= 1, keys_by_url.jwks.paths
    assert (await keys_by_url.client.get(ENROLLMENTS, headers=bearer(genuine))).status_code == 200


@pytest.mark.needs_injection
async def test_after_each_cool_down_a_spray_refetches_once_more_at_most(
    keys_by_url: KeysByUrl, subject: str, clock: Clock
) -> None:
    genuine = keys_by_url.issuer.mint(subject, clock.now())
    assert (await keys_by_url.client.get(ENROLLMENTS, headers=bearer(genuine))).status_code == 200
    counts = [keys_by_url.jwks.requests]

    for _ in range(3):
        await _spray_unknown_kids(keys_by_url, subject, clock.now())
        counts.append(keys_by_url.jwks.requests)
        clock.advance(COOL_DOWN_SECONDS + 1)

    assert all(later - earlier <= 1 for earlier, later in itertools.pairwise(counts))
    assert counts[-1] - counts[0] >= 1, "a spray after the cool-down may look for new keys"


@pytest.mark.needs_injection
async def test_a_rotated_key_is_picked_up_and_the_retired_one_refused(
    keys_by_url: KeysByUrl, subject: str, clock: Clock
) -> None:
    old = keys_by_url.issuer.mint(subject, clock.now())
    assert (await keys_by_url.client.get(ENROLLMENTS, headers=bearer(old))).status_code == 200

    keys_by_url.issuer.rotate()
    keys_by_url.publish()
    clock.advance(COOL_DOWN_SECONDS + 1)
    new = keys_by_url.issuer.mint(subject, clock.now())
    retired = keys_by_url.issuer.retired[-1]
    by_retired_key = retired.sign(
        {"alg": retired.alg, "kid": retired.kid}, keys_by_url.issuer.claims(subject, clock.now())
    )

    assert (await keys_by_url.client.get(ENROLLMENTS, headers=bearer(new))).status_code == 200
    assert_invalid_token(await keys_by_url.client.get(ENROLLMENTS, headers=bearer(by_retired_key)))
    assert keys_by_url.jwks.requests == 2


@pytest.mark.needs_control
async def test_every_key_of_the_published_set_is_trusted_and_fetched_once(
    keys_by_url: KeysByUrl, subject: str
) -> None:
    """Identity providers publish the next key beside the current one before they sign with it."""
    issuer = keys_by_url.issuer
    current = issuer.key
    issuer.rotate()
    keys_by_url.jwks.serve({"keys": [current.public_jwk(), issuer.key.public_jwk()]})

    by_next = issuer.mint(subject)
    by_current = current.sign({"alg": current.alg, "kid": current.kid}, issuer.claims(subject))

    for token in (by_next, by_current):
        assert (await keys_by_url.client.get(ENROLLMENTS, headers=bearer(token))).status_code == 200
    assert keys_by_url.jwks.requests == 1


@pytest.mark.needs_control
async def test_unreachable_keys_with_a_cold_cache_are_a_503_never_a_pass(
    unreachable_keys_client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject)

    for _ in range(2):
        started = time.monotonic()
        response = await unreachable_keys_client.post(
            ENROLLMENTS, json={"mfaMethod": "totp"}, headers=bearer(token)
        )
        elapsed = time.monotonic() - started

        problem = assert_problem(response, 503)
        assert int(response.headers["retry-after"]) > 0
        assert "secret" not in problem
        assert elapsed < UNAVAILABLE_WITHIN_SECONDS
    assert (await unreachable_keys_client.get("/health/live")).status_code == 200
