"""The development issuer: its tokens pass the real verifier; its key file is private and stable."""

import json
import stat
from pathlib import Path

import pytest

from adapters.jwt.dev_issuer import JWKS_FILE_NAME, KEY_FILE_NAME, DevelopmentIssuer
from adapters.jwt.jwks_source import JwksFileSource
from application.errors import InsufficientScope, InvalidToken
from application.ports.token_verifier import Principal
from tests.unit.adapters.jwt.support import AUDIENCE, ISSUER, NOW, Clock, make_verifier


def issuer_in(directory: Path) -> DevelopmentIssuer:
    return DevelopmentIssuer.load_or_create(directory, ISSUER, AUDIENCE)


async def test_minted_token_is_accepted_by_the_verifier_reading_the_published_jwks(
    tmp_path: Path,
) -> None:
    issuer = issuer_in(tmp_path / "keys")
    verifier = make_verifier(
        JwksFileSource(issuer.jwks_path), now=Clock(NOW + 10), required_scope="mfa:manage"
    )
    token = issuer.mint(
        "user-7",
        now=NOW,
        auth_time=NOW - 5,
        amr=["pwd", "hwk"],
        scope="openid mfa:manage",
        extra_claims={"preferred_username": "grace"},
    )

    principal = await verifier.verify(token)

    assert principal == Principal(
        subject="user-7",
        display_name="grace",
        auth_time=NOW - 5,
        scopes=frozenset({"openid", "mfa:manage"}),
        amr=("pwd", "hwk"),
    )


async def test_minted_token_carries_the_registered_claims(tmp_path: Path) -> None:
    issuer = issuer_in(tmp_path)
    verifier = make_verifier(JwksFileSource(issuer.jwks_path))

    principal = await verifier.verify(issuer.mint("user-7", now=NOW, ttl_seconds=60))

    assert principal.auth_time == NOW
    assert principal.amr == ()
    assert principal.scopes == frozenset()


async def test_minted_token_expires_after_its_ttl(tmp_path: Path) -> None:
    issuer = issuer_in(tmp_path)
    verifier = make_verifier(
        JwksFileSource(issuer.jwks_path), now=Clock(NOW + 60), leeway_seconds=0
    )

    with pytest.raises(InvalidToken):
        await verifier.verify(issuer.mint("user-7", now=NOW, ttl_seconds=60))


async def test_minted_token_without_the_required_scope_is_insufficient(tmp_path: Path) -> None:
    issuer = issuer_in(tmp_path)
    verifier = make_verifier(JwksFileSource(issuer.jwks_path), required_scope="mfa:manage")

    with pytest.raises(InsufficientScope):
        await verifier.verify(issuer.mint("user-7", now=NOW, scope="openid"))


async def test_token_minted_for_another_audience_is_rejected(tmp_path: Path) -> None:
    other = DevelopmentIssuer.load_or_create(tmp_path, ISSUER, "another-service")
    verifier = make_verifier(JwksFileSource(other.jwks_path))

    with pytest.raises(InvalidToken):
        await verifier.verify(other.mint("user-7", now=NOW))


def test_key_file_is_created_readable_by_the_owner_only(tmp_path: Path) -> None:
    directory = tmp_path / "fresh"

    issuer_in(directory)

    assert stat.S_IMODE((directory / KEY_FILE_NAME).stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) & 0o077 == 0


def test_published_jwks_holds_only_the_public_key(tmp_path: Path) -> None:
    issuer = issuer_in(tmp_path)

    published = json.loads(issuer.jwks_path.read_text())

    assert issuer.jwks_path == tmp_path / JWKS_FILE_NAME
    assert [key["kid"] for key in published["keys"]] == [issuer.kid]
    assert "d" not in published["keys"][0]
    assert published["keys"][0]["alg"] == "ES256"


def test_reloading_gives_the_same_key(tmp_path: Path) -> None:
    first = issuer_in(tmp_path)
    key_file = (tmp_path / KEY_FILE_NAME).read_bytes()

    second = issuer_in(tmp_path)

    assert second.kid == first.kid
    assert (tmp_path / KEY_FILE_NAME).read_bytes() == key_file


async def test_token_from_before_a_reload_is_accepted_after_it(tmp_path: Path) -> None:
    token = issuer_in(tmp_path).mint("user-7", now=NOW)
    reloaded = issuer_in(tmp_path)

    verifier = make_verifier(JwksFileSource(reloaded.jwks_path))

    assert (await verifier.verify(token)).subject == "user-7"


def test_a_corrupt_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_text('{"kty": "oct", "k": "c2VjcmV0"}')

    with pytest.raises(ValueError, match="P-256"):
        issuer_in(tmp_path)


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "exp", "nbf", "iat", "jti", "scope"])
def test_extra_claims_cannot_replace_registered_ones(tmp_path: Path, claim: str) -> None:
    issuer = issuer_in(tmp_path)

    with pytest.raises(ValueError, match="extra_claims"):
        issuer.mint("user-7", now=NOW, extra_claims={claim: "forged"})


@pytest.mark.parametrize(("subject", "ttl"), [("", 60), ("user-7", 0), ("user-7", -1)])
def test_mint_refuses_an_empty_subject_or_non_positive_ttl(
    tmp_path: Path, subject: str, ttl: int
) -> None:
    issuer = issuer_in(tmp_path)

    with pytest.raises(ValueError, match="must"):
        issuer.mint(subject, now=NOW, ttl_seconds=ttl)


def test_each_minted_token_has_its_own_jti(tmp_path: Path) -> None:
    issuer = issuer_in(tmp_path)

    tokens = {issuer.mint("user-7", now=NOW) for _ in range(20)}

    assert len(tokens) == 20
