"""Introspection answers are cached by a hash of the token: never past the token's ``exp`` nor the
configured maximum age, refusals briefly, at most so many, and one request in flight per token."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters.introspection.cache import IntrospectionCache
from application.errors import DependencyUnavailable, InvalidToken
from tests.integration.introspection.conftest import answer_claims, introspection_verifier
from tests.support.delay_proxy import DelayProxy
from tests.support.introspection_server import Fault, IntrospectionServer

HANG_GUARD_SECONDS = 60


class SteppedClock:
    def __init__(self) -> None:
        self.moment = time.time()

    def now(self) -> float:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += seconds


async def test_an_answer_is_reused_until_the_maximum_age(idp: IntrospectionServer) -> None:
    clock = SteppedClock()
    token = idp.issue(answer_claims("alice", clock.now()))

    async with introspection_verifier(idp.url, now=clock.now, cache_seconds=60) as verifier:
        for _ in range(5):
            await verifier.verify(token)
        clock.advance(59)
        await verifier.verify(token)
        assert idp.requests == 1
        clock.advance(1)
        await verifier.verify(token)
        assert idp.requests == 2


async def test_an_answer_is_never_used_past_the_tokens_expiry(idp: IntrospectionServer) -> None:
    clock = SteppedClock()
    token = idp.issue(answer_claims("alice", clock.now(), exp=int(clock.now()) + 10))

    async with introspection_verifier(idp.url, now=clock.now, cache_seconds=60) as verifier:
        await verifier.verify(token)
        clock.advance(10)
        with pytest.raises(InvalidToken, match="expired"):
            await verifier.verify(token)

    assert idp.requests == 2, "the expired entry was dropped and the provider asked again"


async def test_an_inactive_answer_is_cached_briefly(idp: IntrospectionServer) -> None:
    clock = SteppedClock()

    async with introspection_verifier(idp.url, now=clock.now, cache_seconds=60) as verifier:
        for _ in range(3):
            with pytest.raises(InvalidToken):
                await verifier.verify("never-issued")
        assert idp.requests == 1
        clock.advance(5)
        token = idp.issue(answer_claims("alice", clock.now()), "never-issued")
        assert (await verifier.verify(token)).subject == "alice"
        assert idp.requests == 2


async def test_a_failed_introspection_is_not_cached(idp: IntrospectionServer) -> None:
    token = idp.issue(answer_claims("alice"))
    idp.fault = Fault(status=503, body=b"down for maintenance", content_type="text/plain")

    async with introspection_verifier(idp.url) as verifier:
        with pytest.raises(DependencyUnavailable):
            await verifier.verify(token)
        idp.fault = None
        assert (await verifier.verify(token)).subject == "alice"

    assert idp.requests == 2


async def test_the_cache_holds_at_most_its_maximum_dropping_the_least_recently_used(
    idp: IntrospectionServer,
) -> None:
    tokens = [idp.issue(answer_claims(f"user-{n}")) for n in range(4)]

    async with introspection_verifier(idp.url, max_entries=3) as verifier:
        for token in tokens[:3]:
            await verifier.verify(token)
        await verifier.verify(tokens[0])  # now the most recently used
        await verifier.verify(tokens[3])  # evicts tokens[1]
        assert idp.requests == 4
        await verifier.verify(tokens[0])
        await verifier.verify(tokens[2])
        assert idp.requests == 4
        await verifier.verify(tokens[1])
        assert idp.requests == 5


async def test_concurrent_checks_of_one_token_send_one_request(idp: IntrospectionServer) -> None:
    token = idp.issue(answer_claims("alice"))
    with DelayProxy("127.0.0.1", idp.port) as proxy:
        proxy.delay = 0.5  # every check below starts while the first is still waiting
        url = idp.url.replace(str(idp.port), str(proxy.port))
        async with (
            introspection_verifier(url, timeout_seconds=30) as verifier,
            asyncio.timeout(HANG_GUARD_SECONDS),
        ):
            principals = await asyncio.gather(*(verifier.verify(token) for _ in range(20)))

    assert {principal.subject for principal in principals} == {"alice"}
    assert idp.requests == 1


async def test_a_cancelled_check_does_not_cancel_the_shared_request(
    idp: IntrospectionServer,
) -> None:
    token = idp.issue(answer_claims("alice"))
    with DelayProxy("127.0.0.1", idp.port) as proxy:
        proxy.delay = 0.5
        url = idp.url.replace(str(idp.port), str(proxy.port))
        async with (
            introspection_verifier(url, timeout_seconds=30) as verifier,
            asyncio.timeout(HANG_GUARD_SECONDS),
        ):
            first = asyncio.create_task(verifier.verify(token))
            second = asyncio.create_task(verifier.verify(token))
            await asyncio.sleep(0)
            first.cancel()
            principal = await second

    assert principal.subject == "alice"
    assert first.cancelled()
    assert idp.requests == 1


def test_the_cache_refuses_negative_ages() -> None:
    with pytest.raises(ValueError, match="negative"):
        IntrospectionCache(max_age_seconds=-1, now=time.time)


async def test_concurrent_checks_share_one_failure_and_each_is_unavailable(
    idp: IntrospectionServer,
) -> None:
    token = idp.issue(answer_claims("alice"))
    idp.fault = Fault(status=503, body=b"down", content_type="text/plain")
    with DelayProxy("127.0.0.1", idp.port) as proxy:
        proxy.delay = 0.5
        url = idp.url.replace(str(idp.port), str(proxy.port))
        async with (
            introspection_verifier(url, timeout_seconds=30) as verifier,
            asyncio.timeout(HANG_GUARD_SECONDS),
        ):
            outcomes = await asyncio.gather(
                *(verifier.verify(token) for _ in range(10)), return_exceptions=True
            )

    assert all(isinstance(outcome, DependencyUnavailable) for outcome in outcomes), outcomes
    assert len({id(outcome) for outcome in outcomes}) == 10
    assert idp.requests == 1
