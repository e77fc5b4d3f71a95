"""The symbol is segno's own full-search symbol, module for module, and its penalty is segno's."""

from __future__ import annotations

import random

import numpy as np
import pytest
import segno
from segno import encoder

from adapters.segno.symbol import encode_symbol, penalties

URI_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ234567%:&=?."


def _random_uri(rng: random.Random, length: int) -> str:
    prefix = "otpauth://totp/"
    return prefix + "".join(rng.choice(URI_CHARACTERS) for _ in range(length - len(prefix)))


@pytest.mark.parametrize("seed", range(4))
def test_every_module_and_the_mask_are_those_of_segnos_full_mask_search(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        text = _random_uri(rng, rng.randint(16, 260))

        symbol = encode_symbol(text)

        reference = segno.make_qr(text, error="m", boost_error=False)
        assert (symbol.version, symbol.mask) == (reference.version, reference.mask), text
        assert [bytes(row) for row in symbol.rows] == [bytes(row) for row in reference.matrix]


def test_every_mask_pattern_is_chosen_for_some_symbol() -> None:
    rng = random.Random(7)
    masks = {encode_symbol(_random_uri(rng, rng.randint(20, 210))).mask for _ in range(300)}
    assert masks == set(range(8))


def _periodic(rng: random.Random, size: int) -> list[list[int]]:
    """Rows cut from repetitions of the finder-like run, so that matches overlap and chain."""
    motif = [1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1] + [0] * rng.randint(0, 5)
    return [
        [motif[(rng.randint(0, 1) * i + j + rng.randint(0, 1)) % len(motif)] for j in range(size)]
        for i in range(size)
    ]


@pytest.mark.parametrize("size", [21, 25, 45, 57])
def test_the_penalty_of_any_matrix_is_segnos(size: int) -> None:
    rng = random.Random(size)
    for trial in range(40):
        rows = (
            _periodic(rng, size)
            if trial % 2
            else [[int(rng.random() < 0.5) for _ in range(size)] for _ in range(size)]
        )
        matrix = np.array(rows, dtype=np.uint8)

        (ours,) = penalties(matrix[np.newaxis])

        assert ours == encoder.evaluate_mask([bytearray(row) for row in rows], size, size)  # type: ignore[no-untyped-call]


def test_a_stack_is_scored_symbol_by_symbol() -> None:
    rng = random.Random(3)
    stack = np.array(
        [[[int(rng.random() < 0.5) for _ in range(21)] for _ in range(21)] for _ in range(5)],
        dtype=np.uint8,
    )
    assert penalties(stack) == [penalties(stack[k : k + 1])[0] for k in range(5)]


def test_a_prepared_renderer_encodes_the_longest_otpauth_uri_without_building_anything() -> None:
    from adapters.segno import codewords, symbol
    from adapters.segno.renderer import SegnoQrRenderer
    from domain.otpauth import MAX_URI_LENGTH

    SegnoQrRenderer.prepared()
    built_before = (codewords._error_table.cache_info().misses, symbol._layout.cache_info().misses)

    for length in range(16, MAX_URI_LENGTH + 1):
        encode_symbol(_random_uri(random.Random(length), length))

    built_after = (codewords._error_table.cache_info().misses, symbol._layout.cache_info().misses)
    assert built_after == built_before, "a URI needed a symbol version the renderer did not prepare"
