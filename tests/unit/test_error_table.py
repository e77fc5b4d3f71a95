"""Every error the service raises has an entry in the one error table (ARCHITECTURE.md rule 4)."""

import inspect

import application.errors
import domain.errors
from entrypoints.http import problems


def _error_classes() -> list[type[Exception]]:
    found: list[type[Exception]] = []
    for module in (domain.errors, application.errors, problems):
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, Exception) and value.__module__ == module.__name__:
                found.append(value)
    return found


def test_every_error_class_has_its_own_entry() -> None:
    missing = [cls.__name__ for cls in _error_classes() if cls not in problems.ERROR_TABLE]
    assert missing == []


def test_client_errors_are_4xx_and_outages_503() -> None:
    table = problems.ERROR_TABLE
    assert table[application.errors.DependencyUnavailable].status == 503
    assert table[domain.errors.LockedOut].status == 429
    assert table[application.errors.CodeRejected] == table[domain.errors.StepAlreadyUsed]
    assert all(entry.status < 600 for entry in table.values())
