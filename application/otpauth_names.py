"""The issuer and account name shown in the authenticator app, made to fit whatever a token carries.

The account name comes from the identity provider's token (a claim the bank does not control
character by character), so it is cleaned rather than refused: no claim can make an enrollment fail.
The issuer is a setting, so it is checked at start-up instead (:func:`issuer_problem`).

Cleaning (:func:`clean_name`): Unicode normal form C; every separator (tab, line break, no-break
space, line or paragraph separator) becomes a space; ``:`` becomes ``_`` (the Key URI Format forbids
it in the label); control, format (bidi embeddings, overrides and isolates, marks, zero-width space),
surrogate, private-use and unassigned characters are dropped, the zero-width (non-)joiner kept for
emoji sequences and scripts that need it; runs of spaces become one; the ends are trimmed. Shortening
(:func:`label_for`) keeps whole grapheme clusters (Unicode UAX #29, ``regex``'s ``\\X``), so an accent
or an emoji sequence is never split, and stops where the URI would pass ``MAX_URI_LENGTH`` or the name
``MAX_LABEL_PART`` code points.
"""

from __future__ import annotations

import unicodedata
from typing import Final

import regex

from domain.otpauth import (
    MAX_LABEL_PART,
    MAX_URI_LENGTH,
    OtpauthLabel,
    account_room,
    encoded_length,
)
from domain.policy import TotpPolicy
from domain.visible_text import prints, shows_something

MIN_ACCOUNT_ROOM: Final = 32
"""URI characters an issuer must leave for the account name: a 30-character e-mail address."""

LAST_RESORT_ACCOUNT: Final = "user"
"""Shown when neither the display-name claim nor the subject has a visible character left after
cleaning."""

_GRAPHEME: Final = regex.compile(r"\X")


def clean_name(text: str) -> str:
    """``text`` as a label part: see the module's docstring. May be empty."""
    kept = []
    for character in unicodedata.normalize("NFC", text):
        if character == ":":
            kept.append("_")
        elif character.isspace() or unicodedata.category(character).startswith("Z"):
            kept.append(" ")
        elif prints(character):
            kept.append(character)
    return unicodedata.normalize("NFC", " ".join("".join(kept).split()))


def label_for(issuer: str, account_name: str, fallback: str, policy: TotpPolicy) -> OtpauthLabel:
    """The label of ``issuer`` (a checked setting) and ``account_name`` cleaned and shortened so
    that the URI under ``policy`` fits ``MAX_URI_LENGTH``; ``fallback`` (the subject) if nothing of
    the name is left."""
    room = account_room(issuer, policy)
    for candidate in (account_name, fallback, LAST_RESORT_ACCOUNT):
        fitted = _shortened(clean_name(candidate), room)
        if shows_something(fitted):
            return OtpauthLabel(issuer, fitted)
    raise AssertionError("the issuer leaves no room for an account name")  # pragma: no cover


def issuer_problem(issuer: str, policy: TotpPolicy) -> str | None:
    """Why ``issuer`` cannot be the issuer of every enrollment under ``policy``, or None."""
    cleaned = clean_name(issuer)
    if cleaned != issuer or not shows_something(cleaned):
        return (
            "must be visible NFC text without ':', control or bidi characters, or leading, "
            f"trailing or repeated spaces (cleaned, it would read {cleaned!r})"
        )
    if len(issuer) > MAX_LABEL_PART:
        return f"must be at most {MAX_LABEL_PART} characters"
    room = account_room(issuer, policy)
    if room < MIN_ACCOUNT_ROOM:
        return (
            f"is too long for a QR code a phone reads: percent-encoded, it leaves {max(room, 0)} "
            f"of the {MAX_URI_LENGTH} characters of the otpauth URI for the account name, and "
            f"at least {MIN_ACCOUNT_ROOM} are needed"
        )
    return None


def _shortened(name: str, room: int) -> str:
    kept: list[str] = []
    used = points = 0
    for grapheme in _GRAPHEME.findall(name):
        used += encoded_length(grapheme)
        points += len(grapheme)
        if used > room or points > MAX_LABEL_PART:
            break
        kept.append(grapheme)
    return "".join(kept).rstrip()
