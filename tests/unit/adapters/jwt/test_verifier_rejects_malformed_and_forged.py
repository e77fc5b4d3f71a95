"""B1/B3: forged, malformed and hostile tokens are rejected with InvalidToken, never another error."""

import hashlib
import hmac
from typing import Any, cast

import httpx
import pytest
from joserfc.jwk import ECKey, RSAKey

from adapters.jwt.jwks_source import JwksUrlSource
from adapters.jwt.verifier import JwtTokenVerifier
from application.errors import InvalidToken
from tests.unit.adapters.jwt.support import (
    AUDIENCE,
    ISSUER,
    JwksServer,
    MemorySource,
    b64,
    b64_json,
    claims,
    make_verifier,
    sign,
    sign_rs256_raw,
)


async def assert_rejected(verifier: JwtTokenVerifier, token: str) -> None:
    with pytest.raises(InvalidToken) as raised:
        await verifier.verify(token)
    if len(token) >= 16:  # shorter strings could occur in any message by chance
        assert token not in str(raised.value)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", [b"", b"anything"])
async def test_alg_none_in_any_spelling_is_rejected(
    rsa_key: RSAKey, alg: str, signature: bytes
) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    header = {"alg": alg, "kid": rsa_key.kid}
    unsigned = f"{b64_json(header)}.{b64_json(claims())}.{b64(signature)}"

    await assert_rejected(verifier, unsigned)


async def test_hs256_signed_with_the_rsa_public_key_pem_is_rejected(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    public_pem = rsa_key.as_pem(private=False)
    signing_input = f"{b64_json({'alg': 'HS256', 'kid': rsa_key.kid})}.{b64_json(claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()

    await assert_rejected(verifier, f"{signing_input}.{b64(mac)}")


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512", "none", "None", "ES256K", "RS1", ""])
def test_verifier_refuses_to_be_configured_with_a_non_asymmetric_algorithm(
    rsa_key: RSAKey, alg: str
) -> None:
    with pytest.raises(ValueError, match="algorithms"):
        make_verifier(MemorySource(rsa_key), algorithms=["RS256", alg])


def test_verifier_refuses_an_empty_algorithm_list(rsa_key: RSAKey) -> None:
    with pytest.raises(ValueError, match="algorithms"):
        make_verifier(MemorySource(rsa_key), algorithms=[])


async def test_algorithm_outside_the_allow_list_is_rejected(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key), algorithms=["ES256"])

    await assert_rejected(verifier, sign(rsa_key, "RS256", claims()))


async def test_token_signed_by_an_unknown_key_with_a_known_kid_is_rejected(
    rsa_key: RSAKey, other_rsa_key: RSAKey
) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    token = sign(other_rsa_key, "RS256", claims(), kid=rsa_key.kid)

    await assert_rejected(verifier, token)


async def test_token_whose_kid_names_a_key_of_another_type_is_rejected(
    rsa_key: RSAKey, ec_key: ECKey
) -> None:
    verifier = make_verifier(MemorySource(rsa_key, ec_key))
    token = sign(ec_key, "ES256", claims(), kid=rsa_key.kid)

    await assert_rejected(verifier, token)


async def test_tampered_payload_is_rejected(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    header, _, signature = sign(rsa_key, "RS256", claims()).split(".")
    tampered = f"{header}.{b64_json(claims(sub='admin'))}.{signature}"

    await assert_rejected(verifier, tampered)


async def test_tampered_signature_is_rejected(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    token = sign(rsa_key, "RS256", claims())
    flipped = "A" if token[-2] != "A" else "B"

    await assert_rejected(verifier, token[:-2] + flipped + token[-1])


async def test_token_of_100_kilobytes_is_rejected(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    token = sign(rsa_key, "RS256", claims(padding="x" * 100_000))

    await assert_rejected(verifier, token)


async def test_token_just_over_the_configured_size_is_rejected(rsa_key: RSAKey) -> None:
    token = sign(rsa_key, "RS256", claims())
    verifier = make_verifier(MemorySource(rsa_key), max_token_bytes=len(token) - 1)

    await assert_rejected(verifier, token)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        " ",
        "a",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "....",
        "..",
        "é.é.é",
        "eyJhbGciOiJSUzI1NiJ9.e30.\u00e9",
        "Bearer abc.def.ghi",
        "eyJhbGciOiJSUzI1NiJ9=.e30.c2ln",
        "eyJhbGciOiJSUzI1NiJ9+.e30.c2ln",
        "\x00.\x00.\x00",
    ],
)
async def test_garbage_strings_are_rejected(rsa_key: RSAKey, garbage: str) -> None:
    await assert_rejected(make_verifier(MemorySource(rsa_key)), garbage)


@pytest.mark.parametrize(
    "header_segment",
    [
        b64(b"not json"),
        b64(b"\xff\xfe\xfd"),
        b64_json(["alg", "RS256"]),
        b64_json("RS256"),
        b64_json({}),
        b64_json({"alg": None}),
        b64_json({"alg": ["RS256"]}),
        b64(b"[" * 5000),
        b64(b'{"alg": "RS256", "n": ' + b"9" * 5000 + b"}"),
    ],
)
async def test_undecodable_or_meaningless_headers_are_rejected(
    rsa_key: RSAKey, header_segment: str
) -> None:
    token = f"{header_segment}.{b64_json(claims())}.{b64(b'sig')}"

    await assert_rejected(make_verifier(MemorySource(rsa_key)), token)


@pytest.mark.parametrize("token", [None, b"a.b.c", 42])
async def test_a_token_that_is_not_a_string_is_rejected(rsa_key: RSAKey, token: object) -> None:
    verifier = make_verifier(MemorySource(rsa_key))

    with pytest.raises(InvalidToken):
        await verifier.verify(cast(str, token))


async def test_payload_that_is_not_a_json_object_is_rejected(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    header = {"alg": "RS256", "kid": rsa_key.kid}

    for payload in (["sub"], "sub", 42, None):
        await assert_rejected(verifier, sign_rs256_raw(rsa_key, header, payload))


async def test_crit_header_is_rejected(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    header = {"alg": "RS256", "kid": rsa_key.kid, "crit": ["exp"], "exp": 1}

    await assert_rejected(verifier, sign_rs256_raw(rsa_key, header, claims()))


async def test_unencoded_payload_header_is_rejected(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    header = {"alg": "RS256", "kid": rsa_key.kid, "b64": False}

    await assert_rejected(verifier, sign_rs256_raw(rsa_key, header, claims()))


async def test_unknown_non_critical_header_parameters_are_ignored(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    header = {"alg": "RS256", "kid": rsa_key.kid, "typ": "at+jwt", "x-vendor": {"a": 1}}

    principal = await verifier.verify(sign_rs256_raw(rsa_key, header, claims()))

    assert principal.subject == claims()["sub"]


@pytest.mark.parametrize(
    "kid",
    [
        "../../etc/passwd",
        "k" * 10_000,
        "k" * 129,
        "",
        "kid with spaces",
        "kid\nnewline",
        "kïd",
        12345,
        ["kid"],
        {"kid": "x"},
        True,
    ],
)
async def test_hostile_kid_values_are_rejected(rsa_key: RSAKey, kid: Any) -> None:
    source = MemorySource(rsa_key)
    verifier = make_verifier(source, max_token_bytes=100_000)
    header = {"alg": "RS256", "kid": kid}

    await assert_rejected(verifier, sign_rs256_raw(rsa_key, header, claims()))


async def test_kid_matching_only_after_normalisation_is_rejected(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    kid = str(rsa_key.kid)

    for near_miss in (kid.upper(), kid.lower(), f" {kid}", f"{kid}/", f"./{kid}"):
        if near_miss != kid:
            header = {"alg": "RS256", "kid": near_miss}
            await assert_rejected(verifier, sign_rs256_raw(rsa_key, header, claims()))


@pytest.mark.parametrize("member", ["jku", "x5u"])
async def test_key_url_header_is_never_fetched_and_its_key_never_trusted(
    rsa_key: RSAKey,
    other_rsa_key: RSAKey,
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    member: str,
) -> None:
    attacker_jwks = JwksServer()
    await attacker_jwks.start()
    try:
        attacker_jwks.serve_keys(other_rsa_key)
        jwks_server.serve_keys(rsa_key)
        verifier = make_verifier(JwksUrlSource(jwks_server.url, http_client))
        for kid in (other_rsa_key.kid, rsa_key.kid):
            header = {"alg": "RS256", "kid": kid, member: attacker_jwks.url}
            await assert_rejected(verifier, sign_rs256_raw(other_rsa_key, header, claims()))
    finally:
        await attacker_jwks.close()

    assert attacker_jwks.requests == 0


async def test_embedded_jwk_header_is_never_trusted(rsa_key: RSAKey, other_rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    embedded = other_rsa_key.as_dict(private=False)

    for kid in (other_rsa_key.kid, rsa_key.kid):
        header = {"alg": "RS256", "kid": kid, "jwk": embedded}
        await assert_rejected(verifier, sign_rs256_raw(other_rsa_key, header, claims()))


async def test_token_from_another_issuer_using_the_same_algorithm_is_rejected(
    rsa_key: RSAKey, other_rsa_key: RSAKey
) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    token = sign(other_rsa_key, "RS256", {"iss": ISSUER, "aud": AUDIENCE, "sub": "x"})

    await assert_rejected(verifier, token)
