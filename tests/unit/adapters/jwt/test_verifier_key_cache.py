"""B3: keys are cached, rotations are picked up, unknown kids cannot hammer the JWKS endpoint, and
an unreachable JWKS with a cold cache is DependencyUnavailable (never an anonymous pass).

These tests fetch the key set over real HTTP from a counting server on 127.0.0.1.
"""

import asyncio
import logging
import socket

import httpx
import pytest
from joserfc.jwk import KeySet, RSAKey

from adapters.jwt.jwks_source import JwksUrlSource
from adapters.jwt.verifier import JwtTokenVerifier
from application.errors import DependencyUnavailable, InvalidToken
from tests.unit.adapters.jwt.support import (
    SUBJECT,
    Clock,
    JwksServer,
    MemorySource,
    claims,
    forge,
    make_verifier,
    sign,
)

COOLDOWN = 60
TTL = 600


def url_verifier(server_url: str, http_client: httpx.AsyncClient, clock: Clock) -> JwtTokenVerifier:
    return make_verifier(
        JwksUrlSource(server_url, http_client, timeout_seconds=1.0),
        now=clock,
        refetch_cooldown_seconds=COOLDOWN,
        cache_ttl_seconds=TTL,
    )


def unknown_kid_token(index: int) -> str:
    return forge({"alg": "RS256", "kid": f"unknown-{index}"}, claims())


def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/jwks"


async def test_keys_are_fetched_once_and_then_served_from_the_cache(
    rsa_key: RSAKey, jwks_server: JwksServer, http_client: httpx.AsyncClient, clock: Clock
) -> None:
    jwks_server.serve_keys(rsa_key)
    verifier = url_verifier(jwks_server.url, http_client, clock)

    for _ in range(20):
        clock.advance(10)
        assert (await verifier.verify(sign(rsa_key, "RS256", claims(exp=clock() + 60)))).subject

    assert jwks_server.requests == 1


async def test_concurrent_requests_on_a_cold_cache_share_one_fetch(
    rsa_key: RSAKey, jwks_server: JwksServer, http_client: httpx.AsyncClient, clock: Clock
) -> None:
    jwks_server.serve_keys(rsa_key)
    verifier = url_verifier(jwks_server.url, http_client, clock)
    token = sign(rsa_key, "RS256", claims())

    principals = await asyncio.gather(*(verifier.verify(token) for _ in range(50)))

    assert {principal.subject for principal in principals} == {SUBJECT}
    assert jwks_server.requests == 1


async def test_spray_of_1000_unknown_kids_causes_at_most_one_refetch(
    rsa_key: RSAKey, jwks_server: JwksServer, http_client: httpx.AsyncClient, clock: Clock
) -> None:
    jwks_server.serve_keys(rsa_key)
    verifier = url_verifier(jwks_server.url, http_client, clock)
    await verifier.verify(sign(rsa_key, "RS256", claims()))
    clock.advance(COOLDOWN)

    for index in range(1000):
        with pytest.raises(InvalidToken):
            await verifier.verify(unknown_kid_token(index))

    assert jwks_server.requests == 2


async def test_concurrent_spray_of_1000_unknown_kids_causes_at_most_one_refetch(
    rsa_key: RSAKey, jwks_server: JwksServer, http_client: httpx.AsyncClient, clock: Clock
) -> None:
    jwks_server.serve_keys(rsa_key)
    verifier = url_verifier(jwks_server.url, http_client, clock)
    await verifier.verify(sign(rsa_key, "RS256", claims()))
    clock.advance(COOLDOWN)

    outcomes = await asyncio.gather(
        *(verifier.verify(unknown_kid_token(index)) for index in range(1000)),
        return_exceptions=True,
    )

    assert all(isinstance(outcome, InvalidToken) for outcome in outcomes)
    assert jwks_server.requests == 2


async def test_unknown_kids_refetch_again_only_after_the_cooldown(
    rsa_key: RSAKey, jwks_server: JwksServer, http_client: httpx.AsyncClient, clock: Clock
) -> None:
    jwks_server.serve_keys(rsa_key)
    verifier = url_verifier(jwks_server.url, http_client, clock)
    await verifier.verify(sign(rsa_key, "RS256", claims(exp=clock() + TTL)))

    for _ in range(3):
        clock.advance(COOLDOWN - 1)
        with pytest.raises(InvalidToken):
            await verifier.verify(unknown_kid_token(0))
        clock.advance(1)
        with pytest.raises(InvalidToken):
            await verifier.verify(unknown_kid_token(1))

    assert jwks_server.requests == 1 + 3


@pytest.mark.parametrize(
    "since_the_fetch", [COOLDOWN, 1], ids=["after the cool-down", "within the cool-down"]
)
async def test_a_rotated_key_is_accepted_at_its_first_token(
    rsa_key: RSAKey,
    other_rsa_key: RSAKey,
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: Clock,
    since_the_fetch: int,
) -> None:
    """Within the cool-down was found by the soak: a replica that had fetched the keys less than a
    cool-down before the rotation refused every token signed with the new key, 401, for up to a
    minute."""
    jwks_server.serve_keys(rsa_key)
    verifier = url_verifier(jwks_server.url, http_client, clock)
    await verifier.verify(sign(rsa_key, "RS256", claims(exp=clock() + TTL)))

    jwks_server.serve_keys(rsa_key, other_rsa_key)
    clock.advance(since_the_fetch)
    principal = await verifier.verify(sign(other_rsa_key, "RS256", claims(exp=clock() + 60)))

    assert principal.subject == SUBJECT
    assert jwks_server.requests == 2


async def test_requests_waiting_on_a_refetch_use_the_key_it_brings(
    rsa_key: RSAKey,
    other_rsa_key: RSAKey,
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: Clock,
) -> None:
    jwks_server.serve_keys(rsa_key)
    verifier = url_verifier(jwks_server.url, http_client, clock)
    await verifier.verify(sign(rsa_key, "RS256", claims(exp=clock() + TTL)))
    jwks_server.serve_keys(other_rsa_key)
    clock.advance(COOLDOWN)
    token = sign(other_rsa_key, "RS256", claims(exp=clock() + 60))

    principals = await asyncio.gather(*(verifier.verify(token) for _ in range(20)))

    assert {principal.subject for principal in principals} == {SUBJECT}
    assert jwks_server.requests == 2


async def test_keys_are_refreshed_after_the_cache_ttl(
    rsa_key: RSAKey,
    other_rsa_key: RSAKey,
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: Clock,
) -> None:
    jwks_server.serve_keys(rsa_key)
    verifier = url_verifier(jwks_server.url, http_client, clock)
    await verifier.verify(sign(rsa_key, "RS256", claims()))
    jwks_server.serve_keys(other_rsa_key)

    clock.advance(TTL)
    retired_key_token = sign(rsa_key, "RS256", claims(exp=clock() + 60))

    with pytest.raises(InvalidToken):
        await verifier.verify(retired_key_token)
    assert jwks_server.requests == 2


async def test_cached_keys_stay_in_use_when_a_refresh_fails(
    rsa_key: RSAKey,
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    jwks_server.serve_keys(rsa_key)
    verifier = url_verifier(jwks_server.url, http_client, clock)
    await verifier.verify(sign(rsa_key, "RS256", claims()))
    jwks_server.status = 503
    clock.advance(TTL)
    token = sign(rsa_key, "RS256", claims(exp=clock() + 60))

    with caplog.at_level(logging.WARNING, logger="adapters.jwt.verifier"):
        principal = await verifier.verify(token)

    assert principal.subject == SUBJECT
    assert jwks_server.requests == 2
    assert "keeping cached keys" in caplog.text
    assert token not in caplog.text


async def test_failed_refresh_is_retried_only_after_the_cooldown(
    rsa_key: RSAKey, jwks_server: JwksServer, http_client: httpx.AsyncClient, clock: Clock
) -> None:
    jwks_server.serve_keys(rsa_key)
    verifier = url_verifier(jwks_server.url, http_client, clock)
    await verifier.verify(sign(rsa_key, "RS256", claims()))
    jwks_server.status = 500
    clock.advance(TTL)
    token = sign(rsa_key, "RS256", claims(exp=clock() + TTL))

    for _ in range(10):
        await verifier.verify(token)
        clock.advance(1)
    assert jwks_server.requests == 2

    clock.advance(COOLDOWN)
    await verifier.verify(token)
    assert jwks_server.requests == 3


async def test_unreachable_jwks_with_a_cold_cache_is_dependency_unavailable(
    rsa_key: RSAKey, http_client: httpx.AsyncClient, clock: Clock
) -> None:
    verifier = url_verifier(refused_url(), http_client, clock)

    with pytest.raises(DependencyUnavailable) as raised:
        await verifier.verify(sign(rsa_key, "RS256", claims()))

    assert raised.value.dependency == "identity provider keys"


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b"{}"), (404, b"not found"), (200, b"<html>"), (200, b'{"keys": []}')],
)
async def test_failing_jwks_with_a_cold_cache_is_dependency_unavailable(
    rsa_key: RSAKey,
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: Clock,
    status: int,
    body: bytes,
) -> None:
    jwks_server.status = status
    jwks_server.body = body
    verifier = url_verifier(jwks_server.url, http_client, clock)

    with pytest.raises(DependencyUnavailable):
        await verifier.verify(sign(rsa_key, "RS256", claims()))


async def test_cold_cache_recovers_once_the_jwks_answers_again(
    rsa_key: RSAKey, jwks_server: JwksServer, http_client: httpx.AsyncClient, clock: Clock
) -> None:
    jwks_server.status = 503
    verifier = url_verifier(jwks_server.url, http_client, clock)
    token = sign(rsa_key, "RS256", claims())
    with pytest.raises(DependencyUnavailable):
        await verifier.verify(token)

    jwks_server.status = 200
    jwks_server.serve_keys(rsa_key)

    assert (await verifier.verify(token)).subject == SUBJECT


async def test_malformed_token_is_rejected_without_fetching_keys(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, clock: Clock
) -> None:
    verifier = url_verifier(jwks_server.url, http_client, clock)

    with pytest.raises(InvalidToken):
        await verifier.verify("not-a-token")

    assert jwks_server.requests == 0


class GatedSource(MemorySource):
    """A key source whose first fetch waits until released, to observe requests queued behind it."""

    def __init__(self, *keys: RSAKey) -> None:
        super().__init__(*keys)
        self.release = asyncio.Event()

    async def fetch(self) -> KeySet:
        if self.fetches == 0:
            self.fetches += 1
            await self.release.wait()
            return await MemorySource(*self.keys).fetch()
        return await super().fetch()


async def test_request_queued_behind_a_cancelled_fetch_fetches_itself(rsa_key: RSAKey) -> None:
    source = GatedSource(rsa_key)
    verifier = make_verifier(source)
    token = sign(rsa_key, "RS256", claims())
    first = asyncio.create_task(verifier.verify(token))
    await asyncio.sleep(0)
    queued = asyncio.create_task(verifier.verify(token))
    await asyncio.sleep(0)

    first.cancel()

    assert (await queued).subject == SUBJECT
    assert source.fetches == 2
