"""A QR symbol with the data mask that the ISO/IEC 18004 penalty rule chooses, at level M.

segno does the encoding (segments, version, Reed-Solomon codewords: ``segno.encoder``, pinned by the
lock file); numpy places the codewords, applies the eight mask patterns at once and scores them with
the penalty rule of ISO/IEC 18004:2015 7.8.3 exactly as segno's own ``find_and_apply_best_mask`` does
(format and version areas light while scoring; the first of equal scores wins). The result is the
symbol ``segno.make_qr(text, error="m", boost_error=False)`` draws, module for module, at less CPU than
segno's Python loops spend on one fixed mask (README: "QR codes and names").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from segno import consts
from segno import encoder as segno_encoder

from adapters.segno.codewords import final_message, prepare_tables

encoder: Any = segno_encoder
"""segno's encoding steps: untyped functions, outside its documented API, pinned by the lock file and
proven equal to ``segno.make_qr`` by tests/unit/adapters/test_qr_symbol.py."""

ERROR_LEVEL: Final = consts.ERROR_LEVEL_M
"""Level M survives glare on a screen and keeps the symbol small."""

_N1, _N2, _N3, _N4 = 3, 3, 40, 10
"""ISO/IEC 18004:2015 Table 11: the weights of the four penalty features."""

Modules = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class QrSymbol:
    version: int
    mask: int
    rows: list[bytearray]
    """One row per line of modules, one byte per module: 1 is dark, 0 is light."""


@dataclass(frozen=True, slots=True)
class _Layout:
    """What every symbol of one version shares: function patterns, placement order, masks."""

    fixed: Modules
    placement: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]
    masks: Modules


def prepare(up_to_version: int) -> None:
    """Builds what every symbol of versions 1 to ``up_to_version`` reuses (layout, codeword
    tables), 10 to 60 ms a version, so that a worker's first enrollments do not build it on the
    event loop."""
    for version in range(1, up_to_version + 1):
        _layout(version)
        prepare_tables(version, ERROR_LEVEL)


def encode_symbol(text: str) -> QrSymbol:
    """The full (never Micro) QR symbol of ``text`` at level M with the standard's mask.

    Raises:
        segno.DataOverflowError: ``text`` does not fit any QR version.
    """
    version, bits = _final_message(text)
    layout = _layout(version)
    unmasked = layout.fixed.copy()
    unmasked[layout.placement] = bits
    candidates = unmasked[np.newaxis] ^ layout.masks
    mask = int(np.argmin(penalties(candidates)))
    rows = [bytearray(row.tobytes()) for row in candidates[mask]]
    encoder.add_format_info(rows, version, ERROR_LEVEL, mask)
    encoder.add_version_info(rows, version)
    return QrSymbol(version, mask, rows)


def penalties(symbols: Modules) -> list[int]:
    """The penalty score (N1 + N2 + N3 + N4) of each of a stack of square matrices of 0 and 1."""
    count, size = symbols.shape[0], symbols.shape[1]
    lines = np.concatenate((symbols, symbols.transpose(0, 2, 1)), axis=1).astype(bool)
    dark = symbols.sum(axis=(1, 2), dtype=np.int64)
    adjacent, blocks, finders = _n1(lines), _n2(symbols), _n3(lines)
    return [
        int(adjacent[k]) + int(blocks[k]) + int(finders[k]) + _n4(int(dark[k]), size)
        for k in range(count)
    ]


def _n1(lines: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """N1 + i for every run of 5 + i modules of one colour: (windows of 5) + 2 per run of 5 or more."""
    same = lines[..., 1:] == lines[..., :-1]
    window = same[..., :-3] & same[..., 1:-2] & same[..., 2:-1] & same[..., 3:]
    starts_run = np.ones_like(window)
    starts_run[..., 1:] = ~same[..., : window.shape[-1] - 1]
    per_window = window.sum(axis=(1, 2), dtype=np.int64)
    per_run = (window & starts_run).sum(axis=(1, 2), dtype=np.int64)
    return np.asarray(per_window + (_N1 - 1) * per_run, dtype=np.int64)


def _n2(symbols: Modules) -> npt.NDArray[np.int64]:
    """N2 for every 2 x 2 block of one colour (overlapping blocks each count)."""
    top_left = symbols[:, :-1, :-1]
    same = (
        (top_left == symbols[:, :-1, 1:])
        & (top_left == symbols[:, 1:, :-1])
        & (top_left == symbols[:, 1:, 1:])
    )
    return np.asarray(_N2 * same.sum(axis=(1, 2)), dtype=np.int64)


def _n3(lines: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """N3 for every dark-light-dark-dark-dark-light-dark run with four light modules on one side.

    Outside the symbol counts as light. Like segno, after a counted match the search resumes past
    it, so a match overlapping a counted one (4 or 6 modules on) is not counted: rare, handled by
    walking just the lines where it happens.
    """
    size = lines.shape[-1]
    padded = np.zeros((*lines.shape[:-1], size + 8), dtype=np.bool_)
    padded[..., 4:-4] = lines

    def at(offset: int) -> npt.NDArray[np.bool_]:
        """Module ``offset - 4`` after each start of a match, in every line of every symbol."""
        return padded[..., offset : offset + size - 6]

    found = at(4) & ~at(5) & at(6) & at(7) & at(8) & ~at(9) & at(10)
    light_before = ~(at(0) | at(1) | at(2) | at(3))
    light_after = ~(at(11) | at(12) | at(13) | at(14))
    counted = found & (light_before | light_after)
    per_symbol: npt.NDArray[np.int64] = counted.sum(axis=(1, 2), dtype=np.int64)
    four_on, six_on = counted[..., :-4] & found[..., 4:], counted[..., :-6] & found[..., 6:]
    if not (four_on.any() or six_on.any()):
        return np.asarray(_N3 * per_symbol, dtype=np.int64)
    overlapping = four_on.any(axis=-1) | six_on.any(axis=-1)
    for k, row in zip(*np.nonzero(overlapping), strict=True):
        per_symbol[k] += _counted_in_order(found[k, row], counted[k, row])
        per_symbol[k] -= int(counted[k, row].sum())
    return np.asarray(_N3 * per_symbol, dtype=np.int64)


def _counted_in_order(found: npt.NDArray[np.bool_], counted: npt.NDArray[np.bool_]) -> int:
    total = 0
    resume = 0
    for start in np.flatnonzero(found).tolist():
        if start < resume:
            continue
        if counted[start]:
            total += 1
            resume = start + 7
        else:
            resume = start + 4
    return total


def _n4(dark: int, size: int) -> int:
    """N4 for every 5 % the share of dark modules strays from 50 % (segno's float arithmetic)."""
    percent = float(dark) / (size**2)
    return _N4 * int(abs(percent * 100 - 50) / 5)


def _final_message(text: str) -> tuple[int, Modules]:
    """segno's ``encoder._encode`` up to the data bit stream; the final message from it by
    :mod:`adapters.segno.codewords`."""
    segments = encoder.prepare_data(text, None, None)
    version = encoder.find_version(segments, ERROR_LEVEL, eci=False, micro=False)
    buffer = encoder.Buffer()
    for segment in segments:
        encoder.write_segment(buffer, segment, None, encoder.version_range(version), False)
    capacity = encoder.consts.SYMBOL_CAPACITY[version][ERROR_LEVEL]
    encoder.write_terminator(buffer, capacity, None, len(buffer))
    encoder.write_padding_bits(buffer, version, len(buffer))
    encoder.write_pad_codewords(buffer, version, capacity, len(buffer))
    return version, final_message(version, ERROR_LEVEL, buffer.getbits())


@lru_cache(maxsize=40)
def _layout(version: int) -> _Layout:
    size = encoder.calc_matrix_size(version)
    matrix = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(matrix, size, size)
    encoder.add_alignment_patterns(matrix, size, size)
    fixed = np.frombuffer(b"".join(matrix), dtype=np.uint8).reshape(size, size).copy()
    encoding_region = fixed == 2
    rows, cols = _placement_order(encoding_region)
    i, j = np.indices((size, size))
    patterns = np.stack(
        [
            (i + j) % 2 == 0,
            i % 2 == 0,
            j % 3 == 0,
            (i + j) % 3 == 0,
            (i // 2 + j // 3) % 2 == 0,
            (i * j) % 2 + (i * j) % 3 == 0,
            ((i * j) % 2 + (i * j) % 3) % 2 == 0,
            ((i + j) % 2 + (i * j) % 3) % 2 == 0,
        ]
    )
    masks = (patterns & encoding_region).astype(np.uint8)
    return _Layout(fixed, (rows, cols), masks)


def _placement_order(
    encoding_region: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """ISO/IEC 18004:2015 7.7.3: two-module columns, right to left, alternately up and down,
    skipping the vertical timing pattern (segno's ``add_codewords`` for full QR codes)."""
    size = encoding_region.shape[0]
    rows: list[int] = []
    cols: list[int] = []
    for right in range(size - 1, 0, -2):
        column = right - 1 if right <= 6 else right
        for vertical in range(size):
            for z in (0, 1):
                j = column - z
                upwards = ((column & 2) == 0) ^ (j < 6)
                i = size - 1 - vertical if upwards else vertical
                if encoding_region[i, j]:
                    rows.append(i)
                    cols.append(j)
    return np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp)
