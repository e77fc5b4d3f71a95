"""The family of a SQL statement, for metric labels and span names."""

from __future__ import annotations

import functools
import re
from typing import Final

_VERB: Final = re.compile(r"\s*([A-Za-z]+)")
_TABLE: Final = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_WRITE: Final = re.compile(
    r"\b(INSERT\s+INTO|(?<!FOR )UPDATE|DELETE\s+FROM)\s+\"?([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE
)


@functools.lru_cache(maxsize=512)
def statement_family(statement: str) -> str:
    """``select enrollments``, ``update notification_outbox``, ``begin``: the verb and the first
    table, never a value (the service's statements bind their values as parameters). A statement
    with data-modifying ``WITH`` clauses is named by the first of them: ``with update
    enrollments``."""
    verb = _VERB.match(statement)
    if verb and verb.group(1).lower() == "with" and (write := _WRITE.search(statement)):
        return f"with {write.group(1).split()[0].lower()} {write.group(2).lower()}"
    table = _TABLE.search(statement)
    name = verb.group(1).lower() if verb else "other"
    return f"{name} {table.group(1).lower()}" if table else name
