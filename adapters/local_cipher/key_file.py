"""The local cipher's key ring: 256-bit keys by version, in a file only its owner can read.

Format: one key per line, ``<version>:<base64 key>``, versions ascending; the last one encrypts.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import stat
from pathlib import Path

KEY_BYTES = 32

KeyRing = dict[int, bytes]


class KeyFileError(Exception):
    """The key file is unreadable, malformed or readable by others."""


def load_or_create_key_ring(path: Path) -> KeyRing:
    """The key ring stored at ``path``, created with one key if the file does not exist.

    The file is written with mode 0600 in a 0700 folder. Creation is atomic: the ring is written to a
    private temporary file and hard-linked into place, so two processes starting at once agree on one
    key and nobody reads a half-written file.

    Raises:
        KeyFileError: the file is group- or world-accessible, or malformed.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        temporary = _write_private(path, {1: secrets.token_bytes(KEY_BYTES)})
        try:
            with contextlib.suppress(FileExistsError):  # another process won the race: use its ring
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return _read(path)


def rotate_key_file(path: Path) -> int:
    """Adds a new newest key to the ring at ``path`` and returns its version. Older keys stay, so
    existing ciphertexts remain readable until they are rewrapped.

    Raises:
        KeyFileError: as :func:`load_or_create_key_ring`.
    """
    ring = _read(path)
    version = max(ring) + 1
    ring[version] = secrets.token_bytes(KEY_BYTES)
    _write_private(path, ring).replace(path)
    return version


def _write_private(path: Path, ring: KeyRing) -> Path:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    lines = "".join(f"{v}:{base64.b64encode(k).decode()}\n" for v, k in sorted(ring.items()))
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())
    return temporary


def _read(path: Path) -> KeyRing:
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path} must be readable by its owner only (chmod 600)")
    ring: KeyRing = {}
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        version, _, encoded = line.partition(":")
        try:
            key = base64.b64decode(encoded, validate=True)
            ring[int(version)] = key
        except ValueError:
            raise KeyFileError(
                f"{path}, line {number}: expected '<version>:<base64 key>'"
            ) from None
        if len(key) != KEY_BYTES:
            raise KeyFileError(f"{path}, line {number}: a key must be {KEY_BYTES * 8} bits")
    if not ring:
        raise KeyFileError(f"{path} holds no key")
    return ring
