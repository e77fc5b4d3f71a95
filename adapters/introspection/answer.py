"""What an introspection answer (RFC 7662 §2.2) means for this service: a ``Principal``, or a refusal.

The rules are the JWT path's (SECURITY.md B2), applied to what the identity provider vouches for:
``active`` true, ``iss`` exactly ours, ``aud`` containing ours, ``exp`` present and in the future,
``nbf``/``iat`` not in the future beyond the leeway, ``sub`` a string the stores can hold
(``is_acceptable_subject``, as for a JWT); ``scope`` (RFC 7662: space-separated), ``auth_time``,
``amr`` and ``acr`` well-formed when present. RFC 7662 makes ``iss``, ``aud`` and ``exp`` optional;
a bank's identity provider sends them, and an answer without them is refused rather than trusted for
ever.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.token_claims import (
    MalformedScope,
    audience_contains,
    is_list_of_str,
    is_numeric_date,
    scopes_of,
)
from application.ports.token_verifier import Principal, is_acceptable_subject


class Refused(Exception):
    """The token is not one this service accepts; the message says why, never quoting it."""


@dataclass(frozen=True, slots=True)
class AnswerRules:
    """What an active answer must say, and where the account name comes from."""

    issuer: str
    audience: str
    display_name_claim: str = "preferred_username"
    leeway_seconds: int = 30


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why introspection refused a token, kept in the cache like an acceptance."""

    reason: str


@dataclass(frozen=True, slots=True)
class Accepted:
    """The principal an active answer names, valid until ``expires_at`` (its ``exp``)."""

    principal: Principal
    expires_at: float


def read_answer(answer: Mapping[str, Any], rules: AnswerRules, now: float) -> Accepted:
    """The principal of an answer whose ``active`` is a boolean (the client checked that).

    Raises:
        Refused: the token is inactive, or its claims break a rule above.
    """
    if answer.get("active") is not True:
        raise Refused("token inactive")
    if answer.get("iss") != rules.issuer:
        raise Refused("token issuer not accepted")
    if not audience_contains(answer.get("aud"), rules.audience):
        raise Refused("token audience not accepted")
    exp = answer.get("exp")
    if not is_numeric_date(exp):
        raise Refused("token expiry missing or malformed")
    if now >= exp:
        raise Refused("token expired")
    for name in ("nbf", "iat"):
        if name not in answer:
            continue
        value = answer[name]
        if not is_numeric_date(value):
            raise Refused(f"token {name} malformed")
        if value > now + rules.leeway_seconds:
            raise Refused(f"token {name} is in the future")
    return Accepted(_principal(answer, rules.display_name_claim), float(exp))


def _principal(answer: Mapping[str, Any], display_name_claim: str) -> Principal:
    subject = answer.get("sub")
    if not is_acceptable_subject(subject):
        raise Refused("token subject missing or malformed")
    auth_time = answer.get("auth_time")
    if "auth_time" in answer and not is_numeric_date(auth_time):
        raise Refused("token auth_time malformed")
    amr = answer.get("amr", [])
    if not is_list_of_str(amr):
        raise Refused("token amr malformed")
    acr = answer.get("acr")
    if acr is not None and not isinstance(acr, str):
        raise Refused("token acr malformed")
    display_name = answer.get(display_name_claim)
    return Principal(
        subject=subject,
        display_name=display_name if isinstance(display_name, str) and display_name else None,
        auth_time=None if auth_time is None else int(auth_time),
        scopes=_scopes(answer),
        amr=tuple(amr),
        acr=acr,
    )


def _scopes(answer: Mapping[str, Any]) -> frozenset[str]:
    try:
        return scopes_of(answer)
    except MalformedScope as malformed:
        raise Refused(str(malformed)) from None
