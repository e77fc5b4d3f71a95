"""Tokens refused at the token check, on every route (issue 11, outside test): a signed token
whose subject the stores cannot hold is an invalid token (401), never a 503 that looks like a
database outage; two Authorization headers are never resolved by picking one."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import pytest
from joserfc import jws
from joserfc.jwk import ECKey

from adapters.jwt.dev_issuer import KEY_FILE_NAME, DevelopmentIssuer
from entrypoints.settings import DEFAULT_AUDIENCE, DEVELOPMENT_TOKEN_ISSUER, Settings
from tests.http.flows import Client, bearer

ROUTES = [
    ("GET", "/settings/MfaSecret", None),
    ("POST", "/settings/MfaSecret", {"mfaMethod": "totp"}),
    ("GET", f"/settings/MfaSecret/{uuid.UUID(int=1)}", None),
    ("PATCH", f"/settings/MfaSecret/{uuid.UUID(int=1)}", {"deviceName": "Phone"}),
    ("DELETE", f"/settings/MfaSecret/{uuid.UUID(int=1)}", None),
    ("POST", f"/settings/MfaSecret/{uuid.UUID(int=1)}/verification", {"code": "123456"}),
    ("POST", "/mfa/verify", {"code": "123456"}),
    ("POST", "/settings/MfaSecret/recovery-codes", None),
    ("GET", "/settings/MfaSecret/recovery-codes", None),
]

ODD_SUBJECTS = {
    "NUL": "alice\x00",
    "lone surrogate": "alice\ud800",
    "control character": "alice\x1b[2J",
    "DEL": "alice\x7f",
    "too long": "a" * 256,
}


@pytest.fixture
def signed_for(settings: Settings, issuer: DevelopmentIssuer) -> Callable[[str], str]:
    """Signs claims as JSON text with ASCII escapes, as any issuer may: a lone surrogate travels
    as ``\\ud800``, which no library would let a caller put in a ``str`` it then encodes."""
    key = ECKey.import_key(
        json.loads((settings.data_dir / "dev-issuer" / KEY_FILE_NAME).read_text())
    )

    def sign(subject: str) -> str:
        now = int(time.time())
        claims = {
            "iss": DEVELOPMENT_TOKEN_ISSUER,
            "aud": DEFAULT_AUDIENCE,
            "sub": subject,
            "iat": now,
            "exp": now + 600,
        }
        payload = json.dumps(claims, ensure_ascii=True).encode()
        return jws.serialize_compact({"alg": "ES256", "kid": issuer.kid}, payload, key)

    return sign


@pytest.mark.parametrize("subject", ODD_SUBJECTS.values(), ids=ODD_SUBJECTS.keys())
@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_a_subject_the_stores_cannot_hold_is_an_invalid_token(
    client: Client,
    signed_for: Callable[[str], str],
    subject: str,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    response = await client.request(method, path, json=body, headers=bearer(signed_for(subject)))

    assert response.status_code == 401, response.text
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "retry-after" not in response.headers


async def test_two_authorization_headers_are_refused_whichever_comes_first(
    client: Client, token_for: Callable[..., str]
) -> None:
    valid, forged = token_for("alice"), token_for("alice")[:-4] + "AAAA"

    for first, second in ((valid, forged), (forged, valid)):
        response = await client.get(
            "/settings/MfaSecret",
            headers=[("Authorization", f"Bearer {first}"), ("Authorization", f"Bearer {second}")],
        )
        assert response.status_code == 401, response.text
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
