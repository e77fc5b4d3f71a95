"""Start-up failures in one line: the setting, the target without credentials, the innermost cause."""

from __future__ import annotations

import pytest

from entrypoints.startup_errors import (
    StartupError,
    database_password,
    database_target,
    describe_cause,
    startup_step,
)


class DriverError(Exception):
    pass


def _chained() -> Exception:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as inner:
            raise DriverError("(driver) wrapped\nwith a second line") from inner
    except DriverError as outer:
        return outer


def test_the_innermost_cause_is_described() -> None:
    assert describe_cause(_chained()) == "ConnectionRefusedError: Connection refused"


def test_an_exception_group_is_described_by_its_first_member() -> None:
    group = ExceptionGroup("startup", [LookupError('database "nodb" does not exist')])
    assert describe_cause(group) == 'database "nodb" does not exist'


def test_an_empty_message_is_described_by_its_type() -> None:
    assert describe_cause(TimeoutError()) == "TimeoutError"


def test_hidden_values_and_long_messages_are_cut() -> None:
    cause = describe_cause(ValueError("password hunter2 refused " + "x" * 400), ("hunter2",))
    assert "hunter2" not in cause
    assert "***" in cause
    assert len(cause) == 300


def test_a_step_names_its_setting_and_target() -> None:
    with (
        pytest.raises(StartupError) as raised,
        startup_step("MFA_VAULT_ADDR", "https://vault:8200"),
    ):
        raise _chained()
    assert str(raised.value) == (
        "MFA_VAULT_ADDR (https://vault:8200): ConnectionRefusedError: Connection refused"
    )


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("postgresql+asyncpg://mfa:hunter2@db.internal:6432/mfa", "db.internal:6432/mfa"),
        ("postgresql+asyncpg://mfa@db.internal/mfa", "db.internal:5432/mfa"),
        ("sqlite+aiosqlite:///var/mfa.sqlite3", "var/mfa.sqlite3"),
        ("::::", "an unparsable URL"),
    ],
)
def test_a_database_target_holds_no_credentials(url: str, target: str) -> None:
    assert database_target(url) == target


def test_the_database_password_is_known_to_hide_it() -> None:
    assert database_password("postgresql+asyncpg://mfa:hunter2@db/mfa") == "hunter2"
    assert database_password("postgresql+asyncpg://mfa@db/mfa") == ""
