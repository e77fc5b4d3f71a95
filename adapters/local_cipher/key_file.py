"""The local cipher's key: 256 random bits in a file only its owner can read."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import stat
from pathlib import Path

KEY_BYTES = 32


class KeyFileError(Exception):
    """The key file is unreadable, malformed or readable by others."""


def load_or_create_key(path: Path) -> bytes:
    """The key stored at ``path``, created with mode 0600 (in a 0700 folder) if it does not exist.

    Creation is atomic: the key is written to a private temporary file and hard-linked into place,
    so two processes starting at once agree on one key and nobody ever reads a half-written file.

    Raises:
        KeyFileError: the file is group- or world-accessible, or does not hold a 256-bit key.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        _create(path)
    return _read(path)


def _create(path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process won the race: use its key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read(path: Path) -> bytes:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path} must be readable by its owner only (chmod 600)")
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except ValueError as error:
        raise KeyFileError(f"{path} does not hold a base64 key") from error
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{path} must hold a {KEY_BYTES * 8}-bit key")
    return key
