"""What an introspection answer means: the same Principal as the JWT path, so that scope, step-up
and account-name rules work unchanged; an inactive token or a claim that breaks SECURITY.md B2 is a
401 ``invalid_token``."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from application.errors import InsufficientScope, InvalidToken
from application.ports.token_verifier import Principal
from tests.integration.introspection.conftest import (
    AUDIENCE,
    answer_claims,
    introspection_verifier,
)
from tests.support.introspection_server import IntrospectionServer


async def test_every_claim_the_service_uses_reaches_the_principal(
    idp: IntrospectionServer,
) -> None:
    token = idp.issue(
        answer_claims(
            "alice",
            auth_time=1_700_000_000,
            amr=["pwd", "otp"],
            acr="urn:bank:loa:2",
            preferred_username="alice@example.com",
            aud=["another-service", AUDIENCE],
        )
    )

    async with introspection_verifier(idp.url) as verifier:
        principal = await verifier.verify(token)

    assert principal == Principal(
        subject="alice",
        display_name="alice@example.com",
        auth_time=1_700_000_000,
        scopes=frozenset({"openid", "mfa"}),
        amr=("pwd", "otp"),
        acr="urn:bank:loa:2",
    )


async def test_a_token_the_identity_provider_does_not_know_is_invalid(
    idp: IntrospectionServer,
) -> None:
    async with introspection_verifier(idp.url) as verifier:
        with pytest.raises(InvalidToken, match="inactive"):
            await verifier.verify("an-opaque-token-nobody-issued")

    assert idp.requests == 1


async def test_a_revoked_token_is_invalid_once_its_cached_answer_is_gone(
    idp: IntrospectionServer,
) -> None:
    token = idp.issue(answer_claims("alice"))
    async with introspection_verifier(idp.url, cache_seconds=0) as verifier:
        assert (await verifier.verify(token)).subject == "alice"
        idp.revoke(token)
        with pytest.raises(InvalidToken):
            await verifier.verify(token)


async def test_a_token_without_the_required_scope_is_insufficient(
    idp: IntrospectionServer,
) -> None:
    token = idp.issue(answer_claims("alice", scope="openid"))

    async with introspection_verifier(idp.url) as verifier:
        with pytest.raises(InsufficientScope):
            await verifier.verify(token)


def _wrong_claims(now: int) -> dict[str, dict[str, Any]]:
    return {
        "exp missing": {"exp": None},
        "expired": {"exp": now - 1},
        "exp a string": {"exp": str(now + 600)},
        "exp NaN": {"exp": float("nan")},
        "exp true": {"exp": True},
        "nbf in five minutes": {"nbf": now + 300},
        "iat in five minutes": {"iat": now + 300},
        "iss wrong": {"iss": "https://evil.example/"},
        "iss missing": {"iss": None},
        "aud wrong": {"aud": "another-service"},
        "aud missing": {"aud": None},
        "sub missing": {"sub": None},
        "sub empty": {"sub": ""},
        "sub a number": {"sub": 42},
        "sub too long": {"sub": "a" * 256},
        "sub with NUL": {"sub": "alice\x00"},
        "sub with a lone surrogate": {"sub": "alice\ud800"},
        "sub with a control character": {"sub": "alice\x1b[2J"},
        "scope a list": {"scope": ["openid", "mfa"]},
        "amr a string": {"amr": "otp"},
        "acr a number": {"acr": 2},
        "auth_time a string": {"auth_time": "yesterday"},
    }


@pytest.mark.parametrize("case", list(_wrong_claims(0)))
async def test_an_active_answer_with_wrong_claims_is_invalid_and_logged_without_the_token(
    idp: IntrospectionServer, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    token = idp.issue(answer_claims("alice", **_wrong_claims(int(time.time()))[case]))
    caplog.set_level(logging.DEBUG)

    async with introspection_verifier(idp.url) as verifier:
        with pytest.raises(InvalidToken):
            await verifier.verify(token)

    assert "active token refused" in caplog.text
    assert token not in caplog.text


@pytest.mark.parametrize(
    "token",
    ["a b", "ünïcode", "x" * 8193, "tab\there", "=leading-padding", ""],
    ids=["space", "unicode", "over 8 KiB", "tab", "padding first", "empty"],
)
async def test_a_token_outside_rfc_6750s_syntax_is_invalid_and_never_sent(
    idp: IntrospectionServer, token: str
) -> None:
    async with introspection_verifier(idp.url) as verifier:
        with pytest.raises(InvalidToken, match="malformed"):
            await verifier.verify(token)

    assert idp.requests == 0


async def test_a_token_with_every_b64token_character_reaches_the_provider_intact(
    idp: IntrospectionServer,
) -> None:
    token = idp.issue(answer_claims("alice"), "Az09-._~+/abc==")

    async with introspection_verifier(idp.url) as verifier:
        assert (await verifier.verify(token)).subject == "alice"
