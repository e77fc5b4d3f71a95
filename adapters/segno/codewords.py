"""The final message of a full QR symbol (ISO/IEC 18004:2015 7.5-7.6) from segno's data bits: the
Reed-Solomon error correction codewords by lookup tables, the blocks interleaved, as bits.

segno's ``encoder.make_final_message`` divides polynomials codeword by codeword in Python, more than
half of a symbol's CPU. The remainder of that division is linear in the data codewords (XOR is the
addition of GF(256)), so the error correction of a block is the XOR of one table row per data
codeword: the row of its value at its position, the tables made once per block shape from segno's
own division of the 8 single-bit messages per position. Same codewords as segno, proven by
tests/unit/adapters/test_qr_symbol.py.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from segno import consts

segno_consts: Any = consts

_REMAINDER_BITS: Final = {
    **dict.fromkeys((2, 3, 4, 5, 6), 7),
    **dict.fromkeys((14, 15, 16, 17, 18, 19, 20, 28, 29, 30, 31, 32, 33, 34), 3),
    **dict.fromkeys((21, 22, 23, 24, 25, 26, 27), 4),
}
"""7.6: the bits appended after the codewords to fill the encoding region of some versions."""

Bits = npt.NDArray[np.uint8]


def final_message(version: int, error: int, data_bits: bytes | bytearray) -> Bits:
    """The final message, one byte per bit (0 or 1), of a full QR symbol whose padded data bit
    stream (one byte per bit, as segno's ``Buffer`` holds it) is ``data_bits``."""
    codewords = np.packbits(np.frombuffer(data_bits, dtype=np.uint8) != 0)
    data_blocks: list[npt.NDArray[np.uint8]] = []
    error_blocks: list[npt.NDArray[np.uint8]] = []
    start = 0
    for info in segno_consts.ECC[version][error]:
        table = _error_table(info.num_data, info.num_total - info.num_data)
        positions = np.arange(info.num_data)
        for _ in range(info.num_blocks):
            block = codewords[start : start + info.num_data]
            start += info.num_data
            data_blocks.append(block)
            error_blocks.append(np.bitwise_xor.reduce(table[positions, block], axis=0))
    message = np.concatenate((_interleaved(data_blocks), _interleaved(error_blocks)))
    remainder = np.zeros(_REMAINDER_BITS.get(version, 0), dtype=np.uint8)
    return np.concatenate((np.unpackbits(message), remainder))


def prepare_tables(version: int, error: int) -> None:
    """Builds the tables a symbol of ``version`` at ``error`` uses, once per process."""
    for info in segno_consts.ECC[version][error]:
        _error_table(info.num_data, info.num_total - info.num_data)


def _interleaved(blocks: list[npt.NDArray[np.uint8]]) -> npt.NDArray[np.uint8]:
    """Codeword 1 of every block, then codeword 2 of every block…; shorter blocks (which come
    first) are skipped once they end."""
    longest = max(len(block) for block in blocks)
    grid = np.zeros((len(blocks), longest), dtype=np.uint8)
    present = np.zeros((len(blocks), longest), dtype=bool)
    for row, block in enumerate(blocks):
        grid[row, : len(block)] = block
        present[row, : len(block)] = True
    return np.asarray(grid.T[present.T], dtype=np.uint8)


@lru_cache(maxsize=64)
def _error_table(data_length: int, error_length: int) -> npt.NDArray[np.uint8]:
    """``table[i, v]``: the error correction codewords of a block whose only nonzero data codeword
    is ``v`` at position ``i``."""
    single_bits = np.array(
        [
            [_remainder(position, 1 << bit, data_length, error_length) for bit in range(8)]
            for position in range(data_length)
        ],
        dtype=np.uint8,
    )  # [position, bit, codeword]
    values = np.arange(256, dtype=np.uint8)
    has_bit = ((values[:, np.newaxis] >> np.arange(8, dtype=np.uint8)) & 1).astype(bool)
    # XOR over the set bits of each value: [position, value, bit, codeword], reduced over bit.
    terms = np.where(has_bit[np.newaxis, :, :, np.newaxis], single_bits[:, np.newaxis], 0)
    return np.asarray(np.bitwise_xor.reduce(terms, axis=2), dtype=np.uint8)


def _remainder(position: int, value: int, data_length: int, error_length: int) -> list[int]:
    """segno's division (``encoder.make_blocks``) of one message with ``value`` at ``position``."""
    gen_log, gen_exp = segno_consts.GALIOS_LOG, segno_consts.GALIOS_EXP
    generator = segno_consts.GEN_POLY[error_length]
    block = [0] * (data_length + error_length)
    block[position] = value
    for k in range(data_length):
        coefficient = block[k]
        if coefficient:
            log = gen_log[coefficient]
            for n in range(error_length):
                block[k + n + 1] ^= gen_exp[log + generator[n]]
    return block[data_length:]
