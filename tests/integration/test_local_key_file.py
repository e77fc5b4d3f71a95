import stat
from pathlib import Path

import pytest

from adapters.local_cipher.key_file import KeyFileError, load_or_create_key_ring, rotate_key_file


def test_key_file_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "secret.key"
    ring = load_or_create_key_ring(path)
    assert list(ring) == [1]
    assert len(ring[1]) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_existing_key_is_reused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    assert load_or_create_key_ring(path) == load_or_create_key_ring(path)


def test_rotation_adds_a_newest_key_and_keeps_the_old_ones(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    first = load_or_create_key_ring(path)
    assert rotate_key_file(path) == 2
    ring = load_or_create_key_ring(path)
    assert ring[1] == first[1]
    assert ring[2] != ring[1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    load_or_create_key_ring(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_key_ring(path)


@pytest.mark.parametrize("content", ["1:c2hvcnQ=\n", "", "one:AAAA\n", "1:!!!!\n"])
def test_corrupt_key_file_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "secret.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError):
        load_or_create_key_ring(path)


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    load_or_create_key_ring(tmp_path / "secret.key")
    rotate_key_file(tmp_path / "secret.key")
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]
