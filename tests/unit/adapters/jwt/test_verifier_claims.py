"""B2: issuer, audience, lifetime and subject claims; scope enforcement."""

from typing import Any

import pytest
from joserfc.jwk import RSAKey

from application.errors import InsufficientScope, InvalidToken
from tests.unit.adapters.jwt.support import (
    AUDIENCE,
    ISSUER,
    NOW,
    MemorySource,
    claims,
    make_verifier,
    sign,
)


async def assert_claims_rejected(rsa_key: RSAKey, payload: dict[str, Any], **options: Any) -> None:
    verifier = make_verifier(MemorySource(rsa_key), **options)
    with pytest.raises(InvalidToken):
        await verifier.verify(sign(rsa_key, "RS256", payload))


async def test_expired_token_is_rejected(rsa_key: RSAKey) -> None:
    await assert_claims_rejected(rsa_key, claims(exp=NOW - 31), leeway_seconds=30)


async def test_token_expiring_exactly_now_is_rejected(rsa_key: RSAKey) -> None:
    await assert_claims_rejected(rsa_key, claims(exp=NOW), leeway_seconds=0)
    await assert_claims_rejected(
        rsa_key, claims(exp=NOW), leeway_seconds=30
    )  # B2: no leeway on exp


async def test_token_expiring_exactly_at_the_end_of_the_leeway_is_rejected(
    rsa_key: RSAKey,
) -> None:
    await assert_claims_rejected(rsa_key, claims(exp=NOW - 30), leeway_seconds=30)


async def test_token_without_expiry_is_rejected(rsa_key: RSAKey) -> None:
    await assert_claims_rejected(rsa_key, claims(omit=("exp",)))


@pytest.mark.parametrize("exp", [str(NOW + 300), True, None, [NOW + 300], float("nan")])
async def test_expiry_that_is_not_a_number_is_rejected(rsa_key: RSAKey, exp: object) -> None:
    await assert_claims_rejected(rsa_key, claims(exp=exp))


async def test_infinite_expiry_is_rejected(rsa_key: RSAKey) -> None:
    await assert_claims_rejected(rsa_key, claims(exp=float("inf")))


async def test_token_not_yet_valid_is_rejected(rsa_key: RSAKey) -> None:
    await assert_claims_rejected(rsa_key, claims(nbf=NOW + 31), leeway_seconds=30)


async def test_token_issued_in_the_future_is_rejected(rsa_key: RSAKey) -> None:
    await assert_claims_rejected(rsa_key, claims(iat=NOW + 31), leeway_seconds=30)


@pytest.mark.parametrize("name", ["nbf", "iat"])
@pytest.mark.parametrize("value", ["0", False, None, [0], float("nan")])
async def test_not_before_or_issued_at_that_is_not_a_number_is_rejected(
    rsa_key: RSAKey, name: str, value: object
) -> None:
    payload = claims()
    payload[name] = value

    await assert_claims_rejected(rsa_key, payload)


async def test_token_without_not_before_and_issued_at_is_accepted(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    token = sign(rsa_key, "RS256", claims(omit=("nbf", "iat")))

    assert (await verifier.verify(token)).subject == claims()["sub"]


@pytest.mark.parametrize(
    "iss", [f"{ISSUER}/", ISSUER.upper(), "https://evil.example.test", "", [ISSUER], None]
)
async def test_wrong_issuer_is_rejected(rsa_key: RSAKey, iss: object) -> None:
    await assert_claims_rejected(rsa_key, claims(iss=iss))


async def test_missing_issuer_is_rejected(rsa_key: RSAKey) -> None:
    await assert_claims_rejected(rsa_key, claims(omit=("iss",)))


@pytest.mark.parametrize(
    "aud", ["other-service", AUDIENCE.upper(), "", [], ["other"], [AUDIENCE, 1], {AUDIENCE: 1}]
)
async def test_wrong_audience_is_rejected(rsa_key: RSAKey, aud: object) -> None:
    await assert_claims_rejected(rsa_key, claims(aud=aud))


async def test_missing_audience_is_rejected(rsa_key: RSAKey) -> None:
    await assert_claims_rejected(rsa_key, claims(omit=("aud",)))


async def test_missing_subject_is_rejected(rsa_key: RSAKey) -> None:
    await assert_claims_rejected(rsa_key, claims(omit=("sub",)))


@pytest.mark.parametrize("sub", ["", "s" * 256, 42, None, ["user-42"]])
async def test_empty_overlong_or_non_string_subject_is_rejected(
    rsa_key: RSAKey, sub: object
) -> None:
    await assert_claims_rejected(rsa_key, claims(sub=sub))


async def test_subject_of_255_characters_is_accepted(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))

    principal = await verifier.verify(sign(rsa_key, "RS256", claims(sub="s" * 255)))

    assert principal.subject == "s" * 255


@pytest.mark.parametrize(
    "extra",
    [
        {"auth_time": "yesterday"},
        {"auth_time": True},
        {"auth_time": None},
        {"amr": None},
        {"amr": "pwd"},
        {"amr": ["pwd", 1]},
        {"scope": ["mfa:manage"]},
        {"scp": [1]},
        {"scp": {"mfa:manage": True}},
    ],
)
async def test_optional_claims_of_the_wrong_type_are_rejected(
    rsa_key: RSAKey, extra: dict[str, Any]
) -> None:
    await assert_claims_rejected(rsa_key, claims(**extra))


async def test_required_scope_in_the_scope_claim_is_accepted(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key), required_scope="mfa:manage")
    token = sign(rsa_key, "RS256", claims(scope="openid mfa:manage profile"))

    assert "mfa:manage" in (await verifier.verify(token)).scopes


@pytest.mark.parametrize("scp", [["openid", "mfa:manage"], "openid mfa:manage"])
async def test_required_scope_in_the_scp_claim_is_accepted(rsa_key: RSAKey, scp: object) -> None:
    verifier = make_verifier(MemorySource(rsa_key), required_scope="mfa:manage")
    token = sign(rsa_key, "RS256", claims(scp=scp))

    assert "mfa:manage" in (await verifier.verify(token)).scopes


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"scope": "openid profile"},
        {"scope": "mfa:manage-all mfa"},
        {"scp": ["MFA:MANAGE"]},
        {"scope": "openid\tmfa:manage"},
        {"scp": "openid\nmfa:manage"},
    ],
)
async def test_token_without_the_required_scope_is_insufficient(
    rsa_key: RSAKey, extra: dict[str, Any]
) -> None:
    verifier = make_verifier(MemorySource(rsa_key), required_scope="mfa:manage")
    token = sign(rsa_key, "RS256", claims(**extra))

    with pytest.raises(InsufficientScope):
        await verifier.verify(token)


async def test_scope_is_not_enforced_when_none_is_required(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))

    principal = await verifier.verify(sign(rsa_key, "RS256", claims()))

    assert principal.scopes == frozenset()


async def test_invalid_token_is_reported_before_a_missing_scope(rsa_key: RSAKey) -> None:
    await assert_claims_rejected(rsa_key, claims(exp=NOW - 60), required_scope="mfa:manage")


@pytest.mark.parametrize(
    "options",
    [
        {"issuer": ""},
        {"audience": ""},
        {"leeway_seconds": -1},
        {"max_token_bytes": 0},
        {"cache_ttl_seconds": 0},
        {"refetch_cooldown_seconds": -1},
    ],
)
def test_verifier_refuses_a_weakening_configuration(
    rsa_key: RSAKey, options: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="must"):
        make_verifier(MemorySource(rsa_key), **options)
