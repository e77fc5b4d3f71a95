"""A name or a note must show the person who reads it something."""

from __future__ import annotations

import pytest

from domain.visible_text import shows_something


@pytest.mark.parametrize(
    "text",
    ["a", "7", "-", "€", "📱", "Téléphone", " x ", "\u3164x", "\u0915\u094d"],
)
def test_a_letter_number_punctuation_or_symbol_shows(text: str) -> None:
    assert shows_something(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\u00a0\u2003",  # no-break and em space
        "\u200b\u2060\ufeff",  # zero-width space, word joiner, byte order mark
        "\u115f\u1160\u3164\uffa0",  # the Hangul fillers
        "\u2800",  # braille pattern blank
        "\u0301\u20dd",  # marks without a base
        "\ue000",  # private use
    ],
)
def test_spaces_format_characters_fillers_and_lone_marks_show_nothing(text: str) -> None:
    assert not shows_something(text)
