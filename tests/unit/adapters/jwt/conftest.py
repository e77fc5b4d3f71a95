from collections.abc import AsyncIterator

import httpx
import pytest
from joserfc.jwk import ECKey, OKPKey, RSAKey

from tests.unit.adapters.jwt.support import Clock, JwksServer


@pytest.fixture(scope="session")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, auto_kid=True)


@pytest.fixture(scope="session")
def other_rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, auto_kid=True)


@pytest.fixture(scope="session")
def ec_key() -> ECKey:
    return ECKey.generate_key("P-256", auto_kid=True)


@pytest.fixture(scope="session")
def ed_key() -> OKPKey:
    return OKPKey.generate_key("Ed25519", auto_kid=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def jwks_server() -> AsyncIterator[JwksServer]:
    server = JwksServer()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: no proxy from the environment may sit between the tests and 127.0.0.1.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client
