"""Database exceptions translated into application errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc

from application.errors import ConcurrentUpdate, DependencyUnavailable

DATABASE = "database"


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turns a refused constraint into ConcurrentUpdate and every failure to reach or use the
    database in time (connection refused or lost, pool exhausted, statement or lock timeout) into
    DependencyUnavailable."""
    try:
        yield
    except exc.IntegrityError as error:
        raise ConcurrentUpdate("a constraint of the store refused the change") from error
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, exc.DBAPIError) as error:
        raise DependencyUnavailable(DATABASE) from error
    except (TimeoutError, OSError) as error:
        raise DependencyUnavailable(DATABASE) from error
