"""B1/B2: well-formed tokens signed by a key of the configured JWKS are accepted."""

import pytest
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

from adapters.jwt.verifier import DEFAULT_ALGORITHMS, JwtTokenVerifier
from application.errors import InvalidToken
from application.ports.token_verifier import Principal, TokenVerifier
from tests.unit.adapters.jwt.support import (
    AUDIENCE,
    NOW,
    SUBJECT,
    MemorySource,
    claims,
    make_verifier,
    sign,
)

EDDSA_DEPRECATION = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


async def test_rs256_token_signed_by_a_jwks_key_is_accepted(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))

    principal = await verifier.verify(sign(rsa_key, "RS256", claims()))

    assert principal == Principal(subject=SUBJECT)


async def test_es256_token_signed_by_a_jwks_key_is_accepted(ec_key: ECKey) -> None:
    verifier = make_verifier(MemorySource(ec_key))

    principal = await verifier.verify(sign(ec_key, "ES256", claims()))

    assert principal.subject == SUBJECT


@EDDSA_DEPRECATION
async def test_eddsa_token_signed_by_a_jwks_key_is_accepted(ed_key: OKPKey) -> None:
    verifier = make_verifier(MemorySource(ed_key))

    principal = await verifier.verify(sign(ed_key, "EdDSA", claims()))

    assert principal.subject == SUBJECT


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "PS384", "PS512"])
async def test_other_rsa_algorithms_are_accepted_when_configured(rsa_key: RSAKey, alg: str) -> None:
    verifier = make_verifier(MemorySource(rsa_key), algorithms=[alg])

    principal = await verifier.verify(sign(rsa_key, alg, claims()))

    assert principal.subject == SUBJECT


def test_default_algorithms_are_rs256_es256_and_eddsa() -> None:
    assert DEFAULT_ALGORITHMS == ("RS256", "ES256", "EdDSA")


@EDDSA_DEPRECATION
async def test_the_right_key_is_picked_by_kid_among_several(
    rsa_key: RSAKey, other_rsa_key: RSAKey, ec_key: ECKey, ed_key: OKPKey
) -> None:
    keys: list[Key] = [rsa_key, other_rsa_key, ec_key, ed_key]
    verifier = make_verifier(MemorySource(*keys))

    signers: list[tuple[Key, str]] = [
        (other_rsa_key, "RS256"),
        (ec_key, "ES256"),
        (ed_key, "EdDSA"),
    ]
    for key, alg in signers:
        assert (await verifier.verify(sign(key, alg, claims()))).subject == SUBJECT


async def test_audience_list_containing_ours_is_accepted(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    token = sign(rsa_key, "RS256", claims(aud=["account", AUDIENCE]))

    assert (await verifier.verify(token)).subject == SUBJECT


async def test_token_expiring_a_second_from_now_is_accepted(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key), leeway_seconds=30)
    token = sign(rsa_key, "RS256", claims(exp=NOW + 1))

    assert (await verifier.verify(token)).subject == SUBJECT


async def test_not_before_and_issued_at_within_the_leeway_are_accepted(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key), leeway_seconds=30)
    token = sign(rsa_key, "RS256", claims(nbf=NOW + 30, iat=NOW + 30))

    assert (await verifier.verify(token)).subject == SUBJECT


async def test_fractional_numeric_dates_are_accepted(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    token = sign(rsa_key, "RS256", claims(iat=NOW - 0.5, nbf=NOW - 0.5, exp=NOW + 60.5))

    assert (await verifier.verify(token)).subject == SUBJECT


async def test_principal_carries_display_name_auth_time_scopes_and_amr(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    token = sign(
        rsa_key,
        "RS256",
        claims(
            preferred_username="alice@example.test",
            auth_time=NOW - 60,
            scope="openid mfa:manage",
            scp=["profile"],
            amr=["pwd", "otp"],
        ),
    )

    principal = await verifier.verify(token)

    assert principal == Principal(
        subject=SUBJECT,
        display_name="alice@example.test",
        auth_time=NOW - 60,
        scopes=frozenset({"openid", "mfa:manage", "profile"}),
        amr=("pwd", "otp"),
    )


async def test_display_name_comes_from_the_configured_claim(rsa_key: RSAKey) -> None:
    verifier = make_verifier(MemorySource(rsa_key), display_name_claim="email")
    token = sign(rsa_key, "RS256", claims(email="a@example.test", preferred_username="alice"))

    assert (await verifier.verify(token)).display_name == "a@example.test"


@pytest.mark.parametrize("value", ["", 7, ["alice"], None])
async def test_display_name_that_is_not_a_non_empty_string_is_left_out(
    rsa_key: RSAKey, value: object
) -> None:
    verifier = make_verifier(MemorySource(rsa_key))
    token = sign(rsa_key, "RS256", claims(preferred_username=value))

    assert (await verifier.verify(token)).display_name is None


async def test_token_without_kid_is_accepted_when_one_key_suits_its_algorithm(
    rsa_key: RSAKey, ec_key: ECKey
) -> None:
    verifier = make_verifier(MemorySource(rsa_key, ec_key))
    token = sign(ec_key, "ES256", claims(), with_kid=False)

    assert (await verifier.verify(token)).subject == SUBJECT


async def test_token_without_kid_is_rejected_when_several_keys_suit_its_algorithm(
    rsa_key: RSAKey, other_rsa_key: RSAKey
) -> None:
    verifier = make_verifier(MemorySource(rsa_key, other_rsa_key))
    token = sign(rsa_key, "RS256", claims(), with_kid=False)

    with pytest.raises(InvalidToken):
        await verifier.verify(token)


def test_verifier_is_a_token_verifier(rsa_key: RSAKey) -> None:
    verifier: TokenVerifier = make_verifier(MemorySource(rsa_key))

    assert isinstance(verifier, JwtTokenVerifier)
