import stat
from pathlib import Path

import pytest

from adapters.local_cipher.key_file import KeyFileError, load_or_create_key


def test_key_file_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "secret.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_existing_key_is_reused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    assert load_or_create_key(path) == load_or_create_key(path)


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    load_or_create_key(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_key(path)


def test_corrupt_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_bytes(b"c2hvcnQ=\n")
    path.chmod(0o600)
    with pytest.raises(KeyFileError):
        load_or_create_key(path)


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    load_or_create_key(tmp_path / "secret.key")
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]
