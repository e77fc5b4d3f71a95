"""The shapes of access-token claims, shared by the JWT check and token introspection."""

from __future__ import annotations

import math
from typing import TypeGuard


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
