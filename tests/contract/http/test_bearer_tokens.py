"""Forged and broken bearer tokens: each is a 401, never a 500 and never a pass (SECURITY.md B1-B4;
RFC 6750; RFC 8725 "JSON Web Token Best Current Practices")."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey

from tests.contract.http.api import (
    ENROLLMENTS,
    RECOVERY_CODES,
    VERIFY,
    assert_invalid_token,
    assert_unauthenticated,
    bearer,
)
from tests.contract.http.harness import MintToken
from tests.contract.http.http_server import CountingServer
from tests.contract.http.tokens import SigningKey, TokenIssuer, b64url, b64url_json, split_token

ONE_HUNDRED_KB = 100 * 1024


@dataclass(frozen=True)
class Genuine:
    """A token the service accepts, taken apart, and an attacker's own keys."""

    token: str
    header: dict[str, Any]
    claims: dict[str, Any]
    signature: str
    attacker: SigningKey
    attacker_rsa: SigningKey

    @property
    def kid(self) -> str:
        return str(self.header.get("kid", "unknown"))


Forgery = Callable[[Genuine], str]

_ATTACKER = SigningKey.generate("ES256")
_ATTACKER_RSA = SigningKey.generate("RS256")


@pytest.fixture
def genuine(mint_token: MintToken, subject: str) -> Genuine:
    token = mint_token(subject)
    header, claims, signature = split_token(token)
    return Genuine(token, header, claims, signature, _ATTACKER, _ATTACKER_RSA)


async def _answer(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(ENROLLMENTS, headers=bearer(token))


async def test_the_genuine_token_is_accepted(client: httpx.AsyncClient, genuine: Genuine) -> None:
    """The control for every test below: what they break is all that makes them fail."""
    assert (await _answer(client, genuine.token)).status_code == 200


# --- alg: none ---------------------------------------------------------------------------------

NONE_SPELLINGS = ["none", "None", "NONE", "nOnE"]


def _unsigned(alg: str, signature: str | None) -> Forgery:
    def forge(genuine: Genuine) -> str:
        head = f"{b64url_json({**genuine.header, 'alg': alg})}.{b64url_json(genuine.claims)}"
        if signature is None:
            return head
        return f"{head}.{genuine.signature if signature == 'genuine' else signature}"

    return forge


@pytest.mark.parametrize("alg", NONE_SPELLINGS)
@pytest.mark.parametrize("signature", ["", "genuine", "AAAA", None], ids=["empty", "genuine",
                                                                          "other", "absent"])  # fmt: skip
async def test_an_unsigned_alg_none_token_is_401(
    client: httpx.AsyncClient, genuine: Genuine, alg: str, signature: str | None
) -> None:
    assert_invalid_token(await _answer(client, _unsigned(alg, signature)(genuine)))


# --- HS256 signed with the identity provider's public key --------------------------------------


def _public_key_forms(jwks: dict[str, Any], kid: str) -> dict[str, bytes]:
    """The identity provider's public key, as an HMAC secret, in every form a confused verifier
    might take it: PEM (with and without its final newline), DER and JWK JSON."""
    keys = jwks["keys"]
    jwk = next((key for key in keys if key.get("kid") == kid), keys[0])
    key = JWKRegistry.import_key(jwk)
    assert isinstance(key, RSAKey | ECKey | OKPKey), "an identity provider publishes public keys"
    pem = key.as_pem(private=False)
    return {
        "PEM": pem,
        "PEM without newline": pem.rstrip(b"\n"),
        "DER": key.as_der(private=False),
        "JWK JSON": json.dumps(jwk).encode(),
        "JWK JSON compact": json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode(),
    }


_HMAC = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _hmac_signed(header: dict[str, Any], claims: dict[str, Any], secret: bytes, alg: str) -> str:
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    mac = hmac.new(secret, signing_input.encode("ascii"), _HMAC[alg]).digest()
    return f"{signing_input}.{b64url(mac)}"


@pytest.mark.needs_idp_keys
@pytest.mark.parametrize(
    "form", ["PEM", "PEM without newline", "DER", "JWK JSON", "JWK JSON compact"]
)
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
async def test_an_hmac_token_keyed_with_the_identity_providers_public_key_is_401(
    client: httpx.AsyncClient,
    genuine: Genuine,
    idp_public_jwks: dict[str, Any],
    form: str,
    alg: str,
) -> None:
    secret = _public_key_forms(idp_public_jwks, genuine.kid)[form]
    header = {"alg": alg, "typ": "JWT", "kid": genuine.kid}

    assert_invalid_token(await _answer(client, _hmac_signed(header, genuine.claims, secret, alg)))


# --- a valid signature from a key the identity provider does not publish -------------------------


@pytest.mark.parametrize("key_type", ["ES256", "RS256"])
@pytest.mark.parametrize("kid", ["genuine", "other", "absent"])
async def test_a_token_signed_by_an_unknown_key_is_401(
    client: httpx.AsyncClient, genuine: Genuine, key_type: str, kid: str
) -> None:
    key = genuine.attacker if key_type == "ES256" else genuine.attacker_rsa
    header: dict[str, Any] = {"alg": key.alg, "typ": "JWT"}
    if kid != "absent":
        header["kid"] = genuine.kid if kid == "genuine" else key.kid

    assert_invalid_token(await _answer(client, key.sign(header, genuine.claims)))


# --- keys named by the token itself --------------------------------------------------------------


@pytest.mark.parametrize("parameter", ["jwk", "jku", "x5u"])
@pytest.mark.parametrize("kid", ["genuine", "attacker"])
async def test_a_token_that_names_its_own_key_is_401_and_nothing_is_fetched(
    client: httpx.AsyncClient,
    genuine: Genuine,
    outside_server: CountingServer,
    parameter: str,
    kid: str,
) -> None:
    attacker = genuine.attacker
    outside_server.serve({"keys": [attacker.public_jwk()]})
    header: dict[str, Any] = {
        "alg": attacker.alg,
        "typ": "JWT",
        "kid": genuine.kid if kid == "genuine" else attacker.kid,
        parameter: {
            "jwk": attacker.public_jwk(),
            "jku": f"{outside_server.url}/jwks.json",
            "x5u": f"{outside_server.url}/certificate.pem",
        }[parameter],
    }

    assert_invalid_token(await _answer(client, attacker.sign(header, genuine.claims)))
    assert outside_server.requests == 0, outside_server.paths


# --- hostile kid values --------------------------------------------------------------------------

HOSTILE_KIDS: dict[str, object] = {
    "path traversal": "../../../../etc/passwd",
    "absolute path": "/dev/zero",
    "10k characters": "k" * 10_000,
    "SQL": "x' OR '1'='1'; DROP TABLE enrollments; --",
    "null byte": "genuine\u0000.json",
    "URL": "http://127.0.0.1:1/jwks.json",
    "number": 12345,
    "list": ["a", "b"],
    "object": {"$ne": None},
    "JSON null": None,
    "boolean": True,
    "empty": "",
    "unicode": "ключ-🔑",
    "format string": "%s%s%s%n{0}{kid}",
}


@pytest.mark.parametrize("kid", HOSTILE_KIDS.values(), ids=HOSTILE_KIDS.keys())
async def test_a_hostile_kid_is_401(
    client: httpx.AsyncClient, genuine: Genuine, kid: object
) -> None:
    header = {"alg": genuine.attacker.alg, "typ": "JWT", "kid": kid}

    assert_invalid_token(await _answer(client, genuine.attacker.sign(header, genuine.claims)))


@pytest.mark.needs_control
@pytest.mark.parametrize("kid", HOSTILE_KIDS.values(), ids=HOSTILE_KIDS.keys())
async def test_a_hostile_kid_is_401_even_under_the_identity_providers_signature(
    client: httpx.AsyncClient, identity_provider: TokenIssuer, subject: str, kid: object
) -> None:
    header = {"alg": identity_provider.key.alg, "kid": kid}
    token = identity_provider.mint_with_header(header, subject)

    assert_invalid_token(await _answer(client, token))


# --- claims the identity provider signed, wrong for this service ---------------------------------


def _claims_cases(now: int) -> dict[str, dict[str, Any]]:
    return {
        "exp missing": {"exp": None},
        "expired a minute ago": {"exp": now - 60, "iat": now - 960, "nbf": now - 960},
        "exp not a number": {"exp": str(now + 600)},
        "nbf in five minutes": {"nbf": now + 300},
        "iat in five minutes": {"iat": now + 300, "nbf": now},
        "iss wrong": {"iss": "https://evil.example/"},
        "iss with a trailing space": {"iss": "https://idp.contract.test/ "},
        "iss missing": {"iss": None},
        "aud wrong": {"aud": "another-service"},
        "aud missing": {"aud": None},
        "aud list without ours": {"aud": ["another-service", "a-third"]},
        "sub missing": {"sub": None},
        "sub empty": {"sub": ""},
        "sub not a string": {"sub": 42},
        "auth_time not a number": {"auth_time": "yesterday"},
    }


@pytest.mark.needs_control
@pytest.mark.parametrize("case", list(_claims_cases(0)))
async def test_a_token_with_wrong_claims_is_401(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str, case: str
) -> None:
    claims = _claims_cases(int(time.time()))[case]

    assert_invalid_token(await _answer(client, mint_token(subject, **claims)))


@pytest.mark.needs_control
async def test_an_audience_list_that_holds_ours_is_accepted(
    client: httpx.AsyncClient, mint_token: MintToken, identity_provider: TokenIssuer, subject: str
) -> None:
    token = mint_token(subject, aud=["another-service", identity_provider.audience])

    assert (await _answer(client, token)).status_code == 200


@pytest.mark.needs_control
async def test_a_token_that_expires_now_is_401(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    now = int(time.time())

    assert_invalid_token(await _answer(client, mint_token(subject, exp=now, iat=now - 600)))


# --- tampering -----------------------------------------------------------------------------------


def _with_claims(**changes: Any) -> Forgery:
    def forge(genuine: Genuine) -> str:
        header_segment = genuine.token.split(".")[0]
        return f"{header_segment}.{b64url_json({**genuine.claims, **changes})}.{genuine.signature}"

    return forge


def _flipped_signature(genuine: Genuine) -> str:
    middle = len(genuine.signature) // 2
    flipped = "A" if genuine.signature[middle] != "A" else "B"
    signature = genuine.signature[:middle] + flipped + genuine.signature[middle + 1 :]
    return genuine.token.rsplit(".", 1)[0] + "." + signature


def _truncated_signature(genuine: Genuine) -> str:
    return genuine.token[:-8]


def _other_algorithm(genuine: Genuine) -> str:
    header = {**genuine.header, "alg": "ES384" if genuine.header["alg"] != "ES384" else "ES256"}
    return f"{b64url_json(header)}.{genuine.token.split('.')[1]}.{genuine.signature}"


def _critical_header(genuine: Genuine) -> str:
    header = {"alg": genuine.attacker.alg, "kid": genuine.kid, "crit": ["exp"], "exp": 1}
    return genuine.attacker.sign(header, genuine.claims)


TAMPERINGS: dict[str, Forgery] = {
    "another subject": _with_claims(sub="someone-else"),
    "later expiry": _with_claims(exp=int(time.time()) + 86_400 * 365),
    "extra scope": _with_claims(scope="openid mfa admin"),
    "flipped signature": _flipped_signature,
    "truncated signature": _truncated_signature,
    "algorithm changed": _other_algorithm,
    "unknown critical header": _critical_header,
}


@pytest.mark.parametrize("tampering", TAMPERINGS.values(), ids=TAMPERINGS.keys())
async def test_a_tampered_token_is_401(
    client: httpx.AsyncClient, genuine: Genuine, tampering: Forgery
) -> None:
    assert_invalid_token(await _answer(client, tampering(genuine)))


# --- size, shape and place -----------------------------------------------------------------------


async def test_a_100_kb_token_is_401(client: httpx.AsyncClient, genuine: Genuine) -> None:
    claims = {**genuine.claims, "padding": "x" * ONE_HUNDRED_KB}
    token = genuine.attacker.sign({"alg": genuine.attacker.alg, "kid": genuine.kid}, claims)

    assert len(token) > ONE_HUNDRED_KB
    assert_invalid_token(await _answer(client, token))


@pytest.mark.needs_control
@pytest.mark.jwt_only
async def test_a_100_kb_token_is_401_even_under_the_identity_providers_signature(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    token = mint_token(subject, padding="x" * ONE_HUNDRED_KB)

    assert_invalid_token(await _answer(client, token))


GARBAGE: dict[str, str] = {
    "one segment": "abc",
    "two segments": "abc.def",
    "empty segments": "..",
    "four segments": "a.b.c.d",
    "five segments (JWE)": "a.b.c.d.e",
    "header not base64": "!!!.e30.e30",
    "header not JSON": f"{b64url(b'not json')}.e30.AAAA",
    "header a JSON array": f"{b64url_json(['alg', 'ES256'])}.e30.AAAA",
    "header JSON null": f"{b64url(b'null')}.e30.AAAA",
    "header deeply nested": f"{b64url(b'[' * 3000 + b']' * 3000)}.e30.AAAA",
    "payload not JSON": f"{b64url_json({'alg': 'ES256'})}.{b64url(b'not json')}.AAAA",
    "padded base64": "eyJhbGciOiJFUzI1NiJ9==.e30=.AAAA=",
    "standard base64": "eyJhbGciOiJFUzI1NiJ9+/.e30+/.AA+/",
    "only dots": "...",
}


@pytest.mark.parametrize("token", GARBAGE.values(), ids=GARBAGE.keys())
async def test_a_token_that_is_not_a_jws_is_401(client: httpx.AsyncClient, token: str) -> None:
    response = await _answer(client, token)

    assert_invalid_token(response)


@pytest.mark.needs_control
@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[]", b"null", b'"a string"', b"[" * 3000 + b"]" * 3000, b'{"sub": "a"'],
    ids=["text", "array", "null", "string", "deeply nested", "truncated"],
)
async def test_a_payload_that_is_not_a_claims_object_is_401_even_when_signed(
    client: httpx.AsyncClient, identity_provider: TokenIssuer, payload: bytes
) -> None:
    key = identity_provider.key
    token = key.sign_raw({"alg": key.alg, "kid": key.kid}, payload)

    assert_invalid_token(await _answer(client, token))


async def test_a_token_in_the_query_string_is_ignored(
    client: httpx.AsyncClient, genuine: Genuine
) -> None:
    alone = await client.get(ENROLLMENTS, params={"access_token": genuine.token})
    beside_a_bad_header = await client.get(
        ENROLLMENTS, params={"access_token": genuine.token}, headers=bearer("not.a.token")
    )

    assert_unauthenticated(alone)
    assert_invalid_token(beside_a_bad_header)


async def test_a_token_in_a_form_body_or_cookie_is_ignored(
    client: httpx.AsyncClient, genuine: Genuine
) -> None:
    in_form = await client.post(
        ENROLLMENTS,
        content=f"access_token={genuine.token}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    in_cookie = await client.get(ENROLLMENTS, headers={"Cookie": f"access_token={genuine.token}"})

    assert_unauthenticated(in_form)
    assert_unauthenticated(in_cookie)


# --- what the token check refuses on every route (outside test, issue 11) ------------------------

_SOME_ID = "00000000-0000-4000-8000-000000000001"
CUSTOMER_ROUTES = [
    ("GET", ENROLLMENTS, None),
    ("POST", ENROLLMENTS, {"mfaMethod": "totp"}),
    ("GET", f"{ENROLLMENTS}/{_SOME_ID}", None),
    ("PATCH", f"{ENROLLMENTS}/{_SOME_ID}", {"deviceName": "Phone"}),
    ("DELETE", f"{ENROLLMENTS}/{_SOME_ID}", None),
    ("POST", f"{ENROLLMENTS}/{_SOME_ID}/verification", {"code": "123456"}),
    ("POST", VERIFY, {"code": "123456"}),
    ("POST", RECOVERY_CODES, None),
    ("GET", RECOVERY_CODES, None),
]

ODD_SUBJECTS = {
    "NUL": "alice\x00",
    "lone surrogate": "alice\ud800",
    "control character": "alice\x1b[2J",
    "DEL": "alice\x7f",
    "too long": "a" * 256,
}


@pytest.mark.needs_control
@pytest.mark.jwt_only
@pytest.mark.parametrize("odd_subject", ODD_SUBJECTS.values(), ids=ODD_SUBJECTS.keys())
@pytest.mark.parametrize(
    ("method", "path", "body"), CUSTOMER_ROUTES, ids=[f"{m} {p}" for m, p, _ in CUSTOMER_ROUTES]
)
async def test_a_subject_the_stores_cannot_hold_is_an_invalid_token_never_a_503(
    client: httpx.AsyncClient,
    identity_provider: TokenIssuer,
    odd_subject: str,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    """Signed as JSON text with ASCII escapes, as any issuer may: a lone surrogate travels as
    ``\\ud800``, which no library would let a caller put in a ``str`` it then encodes."""
    key = identity_provider.key
    claims = identity_provider.claims("placeholder", None, sub=odd_subject)
    token = key.sign_raw(
        {"alg": key.alg, "kid": key.kid}, json.dumps(claims, ensure_ascii=True).encode()
    )

    response = await client.request(method, path, json=body, headers=bearer(token))

    assert_invalid_token(response)
    assert "retry-after" not in response.headers


async def test_two_authorization_headers_are_refused_whichever_comes_first(
    client: httpx.AsyncClient, mint_token: MintToken, subject: str
) -> None:
    valid = mint_token(subject)
    forged = mint_token(subject)[:-4] + "AAAA"

    for first, second in ((valid, forged), (forged, valid)):
        response = await client.get(
            ENROLLMENTS,
            headers=[("Authorization", f"Bearer {first}"), ("Authorization", f"Bearer {second}")],
        )
        assert_invalid_token(response)
