"""The shapes of access-token claims, shared by the JWT check and token introspection."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeGuard


def audience_contains(aud: object, audience: str) -> bool:
    """Whether ``aud`` (a string or a list of strings, RFC 7519 section 4.1.3) names ``audience``."""
    if isinstance(aud, str):
        return aud == audience
    return is_list_of_str(aud) and audience in aud


def is_numeric_date(value: object) -> TypeGuard[int | float]:
    # NumericDate is a JSON number: not a bool, and never NaN or infinite (NaN compares false with
    # everything, so an `exp` of NaN would never expire).
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def is_list_of_str(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


class MalformedScope(ValueError):
    """``scope`` is not a string, or ``scp`` neither a string nor a list of strings."""


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """The scopes of ``scope`` (RFC 6749 section 3.3, RFC 7662, RFC 9068) and of ``scp`` (a list,
    or a string as some providers send it). Scopes are separated by spaces (%x20) only: a tab or a
    line break is part of a scope, which then matches none the service asks for.

    Raises:
        MalformedScope: either claim has another type.
    """
    scope = claims.get("scope", "")
    scp = claims.get("scp", [])
    if not isinstance(scope, str):
        raise MalformedScope("token scope malformed")
    if isinstance(scp, str):
        scp = scp.split(" ")
    if not is_list_of_str(scp):
        raise MalformedScope("token scp malformed")
    return (frozenset(scope.split(" ")) | frozenset(scp)) - {""}
