"""Any display name a token carries gives a label, and a URI whose QR code a phone reads."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.otpauth_names import (
    LAST_RESORT_ACCOUNT,
    MIN_ACCOUNT_ROOM,
    clean_name,
    issuer_problem,
    label_for,
)
from domain.otpauth import MAX_LABEL_PART, MAX_URI_LENGTH, build_otpauth_uri
from domain.policy import HashAlgorithm, TotpPolicy
from domain.secret import TotpSecret

SECRET = TotpSecret.from_bytes(b"12345678901234567890")
LONGEST_POLICY = TotpPolicy(HashAlgorithm.SHA512, 8, 60)


def _uri(issuer: str, account: str, policy: TotpPolicy = LONGEST_POLICY) -> str:
    return build_otpauth_uri(SECRET, policy, label_for(issuer, account, "subject-1", policy))


@given(account=st.text(), issuer=st.sampled_from(["Example Bank", "Banque Générale & Cie", "銀行"]))
@settings(max_examples=300, deadline=None)
def test_any_display_name_gives_a_uri_within_the_bound(account: str, issuer: str) -> None:
    uri = _uri(issuer, account)

    assert len(uri) <= MAX_URI_LENGTH


def test_sixty_four_emoji_each_side_fit_instead_of_failing() -> None:
    label = label_for("Bank", "😀" * 64, "subject-1", LONGEST_POLICY)

    assert set(label.account_name) == {"😀"}
    assert len(_uri("Bank", "😀" * 64)) <= MAX_URI_LENGTH


@pytest.mark.parametrize(
    ("claim", "shown"),
    [
        ("alice\tsmith", "alice smith"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("\u2066alice\u2069", "alice"),
        ("  alice \n\u00a0 smith  ", "alice smith"),
        ("urn:user:42", "urn_user_42"),
        ("zoe\u0308", "zoë"),
        ("a\x00b\x7fc\ud800d\ue000e", "abcde"),
        ("👩\u200d👩\u200d👧 family", "👩\u200d👩\u200d👧 family"),
    ],
)
def test_claims_are_normalised_and_stripped_of_control_and_bidi_characters(
    claim: str, shown: str
) -> None:
    assert label_for("Bank", claim, "subject-1", TotpPolicy()).account_name == shown


def test_a_name_is_cut_between_grapheme_clusters_never_inside_one() -> None:
    accented = "e\u0301" * 40  # NFC makes each "é" one code point...
    combining = "x\u0323\u0307" * 30  # ...but these stay three code points each.

    assert label_for("Bank", accented, "s", TotpPolicy()).account_name == "é" * 17
    cut = label_for("Bank", combining, "s", TotpPolicy()).account_name
    assert cut == unicodedata.normalize("NFC", "x\u0323\u0307") * (len(cut) // 2)
    assert len(cut) <= MAX_LABEL_PART


def test_a_name_longer_than_sixty_four_code_points_is_cut_there() -> None:
    assert label_for("B", "a" * 100, "s", TotpPolicy()).account_name == "a" * MAX_LABEL_PART


def test_a_name_with_nothing_printable_falls_back_to_the_subject_then_a_word() -> None:
    assert label_for("Bank", "\u202e\t\x00", "subject-1", TotpPolicy()).account_name == "subject-1"
    assert label_for("Bank", "\u202e", "\u2066", TotpPolicy()).account_name == LAST_RESORT_ACCOUNT


@pytest.mark.parametrize("claim", ["\u3164", "\u2800\u2800", "\u115f \u1160", "\u0301"])
def test_a_name_that_shows_nothing_falls_back_to_the_subject(claim: str) -> None:
    assert label_for("Bank", claim, "subject-1", TotpPolicy()).account_name == "subject-1"


def test_clean_names_are_left_alone() -> None:
    assert clean_name("Example Bank") == "Example Bank"


@pytest.mark.parametrize(
    "issuer",
    [" Bank", "Bank ", "Bank\t", "Ba:nk", "Bank\u202e", "Ba  nk", "", "Bank\u0301x" + "e\u0301"],
)
def test_an_issuer_that_is_not_already_clean_is_refused(issuer: str) -> None:
    problem = issuer_problem(issuer, TotpPolicy())

    assert problem is not None and "cleaned, it would read" in problem


@pytest.mark.parametrize("issuer", ["\u3164", "\u2800", "\u0301"])
def test_an_issuer_that_shows_nothing_is_refused(issuer: str) -> None:
    problem = issuer_problem(issuer, TotpPolicy())

    assert problem is not None and problem.startswith("must be visible")


def test_an_issuer_that_leaves_no_room_for_an_account_is_refused() -> None:
    problem = issuer_problem(("Ünïcödé Bänk " * 4).strip(), LONGEST_POLICY)

    assert problem is not None and f"at least {MIN_ACCOUNT_ROOM}" in problem


def test_a_usual_issuer_is_accepted() -> None:
    assert issuer_problem("Example Bank", LONGEST_POLICY) is None
