"""The introspection adapter against the suite's own RFC 7662 endpoint, a real HTTP server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from adapters.introspection.answer import AnswerRules
from adapters.introspection.cache import IntrospectionCache
from adapters.introspection.client import ClientCredentials, ClientSecret, IntrospectionClient
from adapters.introspection.verifier import IntrospectionTokenVerifier
from tests.support.introspection_server import IntrospectionServer

ISSUER = "https://idp.introspection.test/"
AUDIENCE = "mfa-service"
CLIENT_ID = "mfa-service-client"
CLIENT_SECRET = "correct horse battery staple: 42%"
TIMEOUT_SECONDS = 10.0
"""Generous: only the fault tests, with their own shorter timeout, are about the timeout."""


def answer_claims(subject: str, now: float | None = None, /, **changes: Any) -> dict[str, Any]:
    """What the identity provider says about a good token of ``subject``; ``changes`` replace or
    (as None) remove claims."""
    moment = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "exp": moment + 900,
        "iat": moment,
        "scope": "openid mfa",
        "client_id": "bank-web",
        "token_type": "Bearer",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


@pytest.fixture
def idp() -> Iterator[IntrospectionServer]:
    """The identity provider's endpoint; the service authenticates with client_secret_basic."""
    server = IntrospectionServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with server.running():
        yield server


@asynccontextmanager
async def introspection_verifier(
    url: str,
    credentials: ClientCredentials | None = None,
    *,
    now: Callable[[], float] = time.time,
    cache_seconds: float = 60,
    required_scope: str | None = "mfa",
    timeout_seconds: float = TIMEOUT_SECONDS,
    max_entries: int = 10_000,
    ca_cert: Path | None = None,
) -> AsyncIterator[IntrospectionTokenVerifier]:
    """The verifier as the composition builds it, on ``url``."""
    client = IntrospectionClient(
        url,
        credentials or ClientSecret(CLIENT_ID, CLIENT_SECRET),
        timeout_seconds=timeout_seconds,
        ca_cert=ca_cert,
    )
    try:
        yield IntrospectionTokenVerifier(
            introspector=client,
            rules=AnswerRules(issuer=ISSUER, audience=AUDIENCE),
            cache=IntrospectionCache(
                max_age_seconds=cache_seconds, now=now, max_entries=max_entries
            ),
            now=now,
            required_scope=required_scope,
        )
    finally:
        await client.aclose()
