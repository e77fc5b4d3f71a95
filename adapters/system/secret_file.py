"""A secret kept in a file of its own (the pseudonym key): read it, or create it in development."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


class SecretFileError(Exception):
    """The secret file is unreadable, or too short to be a key."""


def read_secret(path: Path, min_bytes: int) -> bytes:
    """The file's text without surrounding white space, as UTF-8 bytes.

    Raises:
        SecretFileError: unreadable, or shorter than ``min_bytes``.
    """
    try:
        secret = path.read_text(encoding="utf-8").strip().encode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SecretFileError(f"{path} cannot be read: {error.__class__.__name__}") from None
    if len(secret) < min_bytes:
        raise SecretFileError(f"{path} must hold at least {min_bytes} bytes")
    return secret


def load_or_create_secret(path: Path, min_bytes: int) -> bytes:
    """The secret at ``path``, created (mode 0600, random, 64 characters) if there is none; two
    processes starting at once agree on one secret (written aside, then linked into place).

    Raises:
        SecretFileError: as :func:`read_secret`.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return read_secret(path, min_bytes)
