"""What a name or a note may hold to read as typed: printable characters (no control, format such as
a bidi override, or separator other than the space), and at least one a reader sees, since text made
only of spaces, invisible characters or characters drawn as blanks (Hangul fillers, the blank
Braille pattern) is empty to the person who reads it in a list, an app or an audit trail."""

from __future__ import annotations

import unicodedata
from typing import Final

JOINERS: Final = frozenset("\u200c\u200d")
"""Zero-width non-joiner and joiner: format characters that emoji sequences and several scripts need."""

BLANK_GLYPHS: Final = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Letters and symbols by category that fonts draw as nothing: the Hangul choseong, jungseong and
(halfwidth) fillers and BRAILLE PATTERN BLANK."""

_VISIBLE_CATEGORIES: Final = frozenset("LNPS")
"""Letters, numbers, punctuation, symbols. Marks show only on a base character; separators, control
and format characters draw nothing of their own; private-use and unassigned ones have no agreed glyph."""


def shows_something(text: str) -> bool:
    """Whether ``text`` has at least one character a reader sees."""
    return any(
        unicodedata.category(character)[0] in _VISIBLE_CATEGORIES and character not in BLANK_GLYPHS
        for character in text
    )


def prints(character: str) -> bool:
    """Printable (no control, format, separator other than space, surrogate, private or unassigned
    character) or a joiner."""
    return character.isprintable() or character in JOINERS
