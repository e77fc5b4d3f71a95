"""Which strings the stores can hold: every value the service writes comes through this rule.

A string that Postgres cannot store (NUL, a lone surrogate that has no UTF-8 form) or that would
corrupt a log line or an audit record (control characters) is refused where it enters the service,
with an answer that blames its source, instead of failing in the database as if it were down.
"""

from __future__ import annotations

import unicodedata

_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})
"""Unicode control characters (C0, DEL, C1; NUL among them) and surrogates."""


def is_storable(value: str, max_length: int) -> bool:
    """Whether ``value`` is 1 to ``max_length`` characters, none of them a control character or a
    surrogate."""
    return 0 < len(value) <= max_length and not any(
        unicodedata.category(character) in _REFUSED_CATEGORIES for character in value
    )
