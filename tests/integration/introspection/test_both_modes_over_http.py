"""``MFA_TOKEN_MODE=both`` in the real app: a JWT is checked locally against the JWKS, an opaque token
is introspected; the introspection endpoint failing is a 503 with Retry-After for opaque tokens only,
and an inactive token a 401 ``invalid_token``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from adapters.memory.store import MemoryUnitOfWorkFactory
from entrypoints.composition import Overrides, create_app
from entrypoints.settings import IntrospectionConfig, Settings, TokenMode
from tests.contract.http.api import assert_invalid_token, bearer
from tests.contract.http.tokens import TokenIssuer
from tests.integration.introspection.conftest import (
    AUDIENCE,
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    answer_claims,
)
from tests.support.delay_proxy import DelayProxy
from tests.support.introspection_server import IntrospectionServer

ENROLLMENTS = "/settings/MfaSecret"


@dataclass
class Service:
    client: httpx.AsyncClient
    jwt_issuer: TokenIssuer
    proxy: DelayProxy


@pytest.fixture
async def service(tmp_path: Path, idp: IntrospectionServer) -> AsyncIterator[Service]:
    jwt_issuer = TokenIssuer(ISSUER, AUDIENCE, scope="openid mfa")
    with DelayProxy("127.0.0.1", idp.port) as proxy:
        settings = Settings(
            data_dir=tmp_path,
            local_key_file=tmp_path / "secret-encryption.key",
            jwks_file=jwt_issuer.write_jwks(tmp_path / "jwks.json"),
            token_issuer=ISSUER,
            token_audience=AUDIENCE,
            required_scope="mfa",
            token_mode=TokenMode.BOTH,
            introspection=IntrospectionConfig(
                url=idp.url.replace(f":{idp.port}/", f":{proxy.port}/"),
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                timeout_seconds=10.0,
                cache_seconds=0,
            ),
        )
        app = create_app(settings, Overrides(unit_of_work=MemoryUnitOfWorkFactory()))
        async with AsyncTestClient(app=app, raise_server_exceptions=False, timeout=60) as client:
            yield Service(client, jwt_issuer, proxy)


async def test_a_jwt_is_checked_locally_and_an_opaque_token_introspected(
    service: Service, idp: IntrospectionServer
) -> None:
    jwt = service.jwt_issuer.mint("alice")
    opaque = idp.issue(answer_claims("bob"))

    assert (await service.client.get(ENROLLMENTS, headers=bearer(jwt))).status_code == 200
    assert idp.requests == 0
    assert (await service.client.get(ENROLLMENTS, headers=bearer(opaque))).status_code == 200
    assert idp.requests == 1


async def test_an_opaque_token_the_provider_does_not_know_is_invalid(
    service: Service, idp: IntrospectionServer
) -> None:
    assert_invalid_token(await service.client.get(ENROLLMENTS, headers=bearer("opaque-unknown")))
    assert idp.requests == 1


async def test_a_forged_jwt_is_never_introspected(
    service: Service, idp: IntrospectionServer
) -> None:
    forged = TokenIssuer(ISSUER, AUDIENCE, scope="openid mfa").mint("mallory")

    assert_invalid_token(await service.client.get(ENROLLMENTS, headers=bearer(forged)))
    assert idp.requests == 0


async def test_an_unreachable_endpoint_is_a_503_for_opaque_tokens_only(
    service: Service, idp: IntrospectionServer
) -> None:
    opaque = idp.issue(answer_claims("bob"))
    service.proxy.refuse = True

    refused = await service.client.post(
        ENROLLMENTS, headers=bearer(opaque), json={"mfaMethod": "totp"}
    )
    jwt_answer = await service.client.get(
        ENROLLMENTS, headers=bearer(service.jwt_issuer.mint("alice"))
    )

    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["content-type"] == "application/problem+json"
    assert jwt_answer.status_code == 200
    service.proxy.refuse = False
    listed = await service.client.get(ENROLLMENTS, headers=bearer(opaque))
    assert listed.status_code == 200
    assert listed.json() == [], "nothing was stored"
