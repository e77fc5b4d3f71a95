from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from domain.errors import InvalidOtpauthLabel
from domain.otpauth import MAX_URI_LENGTH, OtpauthLabel, account_room, build_otpauth_uri
from domain.policy import HashAlgorithm, TotpPolicy
from domain.secret import TotpSecret

SECRET = TotpSecret.from_bytes(b"12345678901234567890")


def _uri(issuer: str, account: str, policy: TotpPolicy | None = None) -> str:
    return build_otpauth_uri(SECRET, policy or TotpPolicy(), OtpauthLabel(issuer, account))


def test_uri_follows_key_uri_format() -> None:
    assert _uri("Example Bank", "alice@example.com") == (
        "otpauth://totp/Example%20Bank:alice%40example.com"
        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example%20Bank"
        "&algorithm=SHA1&digits=6&period=30"
    )


def test_spaces_are_percent_20_never_plus() -> None:
    uri = _uri("My Bank", "a b")
    assert "+" not in uri
    assert "My%20Bank:a%20b" in uri


@pytest.mark.parametrize(
    ("issuer", "account"),
    [
        ("Bank & Co", "a+b@example.com"),
        ("Banque Générale", "zoë"),
        ("銀行", "ユーザー"),
        ("A/B?C#", "x=y&z"),
    ],
)
def test_label_and_issuer_round_trip_through_percent_encoding(issuer: str, account: str) -> None:
    parts = urlsplit(_uri(issuer, account))
    label_issuer, _, label_account = unquote(parts.path.removeprefix("/")).partition(":")
    query = parse_qs(parts.query)
    assert (label_issuer, label_account) == (issuer, account)
    assert query["issuer"] == [issuer]
    assert set(parts.query.split("&")[0]) <= set("secret=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert "&" not in parts.path and "?" not in parts.path


def test_issuer_parameter_equals_label_prefix() -> None:
    parts = urlsplit(_uri("Example Bank", "alice"))
    assert parse_qs(parts.query)["issuer"][0] == unquote(parts.path[1:]).split(":")[0]


@pytest.mark.parametrize(("issuer", "account"), [("Evil:Bank", "alice"), ("Bank", "ali:ce")])
def test_colon_inside_issuer_or_account_is_refused(issuer: str, account: str) -> None:
    with pytest.raises(InvalidOtpauthLabel):
        OtpauthLabel(issuer, account)


@pytest.mark.parametrize(("issuer", "account"), [("", "alice"), ("Bank", " "), ("Bank", "a\nb")])
def test_empty_or_unprintable_label_parts_are_refused(issuer: str, account: str) -> None:
    with pytest.raises(InvalidOtpauthLabel):
        OtpauthLabel(issuer, account)


@pytest.mark.parametrize(
    ("issuer", "account"),
    [("Bank", "a\u202eb"), ("Bank", "a\tb"), (" Bank", "alice"), ("Bank", "e\u0301")],
)
def test_bidi_control_untrimmed_or_unnormalised_parts_are_refused(
    issuer: str, account: str
) -> None:
    with pytest.raises(InvalidOtpauthLabel):
        OtpauthLabel(issuer, account)


def test_a_uri_longer_than_a_version_10_symbol_holds_is_refused() -> None:
    with pytest.raises(InvalidOtpauthLabel):
        _uri("B" * 64, "a" * 64, TotpPolicy(HashAlgorithm.SHA512, 8, 60))


def test_account_room_is_what_the_uri_bound_leaves_for_the_account() -> None:
    issuer = "B" * 50
    room = account_room(issuer, TotpPolicy())

    assert len(_uri(issuer, "a" * room)) == MAX_URI_LENGTH
    with pytest.raises(InvalidOtpauthLabel):
        _uri(issuer, "a" * (room + 1))


def test_exactly_one_colon_separates_issuer_and_account() -> None:
    uri = _uri("Bank", "alice")
    assert unquote(urlsplit(uri).path).count(":") == 1


def test_non_default_policy_is_written_into_the_uri() -> None:
    uri = _uri("Bank", "alice", TotpPolicy(HashAlgorithm.SHA256, 8, 60))
    assert uri.endswith("&algorithm=SHA256&digits=8&period=60")
