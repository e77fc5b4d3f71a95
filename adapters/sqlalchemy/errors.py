"""Database exceptions translated into application errors: SQLAlchemy's (``translated_errors``) and
asyncpg's, for the statements run on the driver (``driver_error``), to the same errors.

A driver's message can quote a statement's parameters (a ciphertext, a user id): none of it is
chained to the application error, which carries the error's class and SQLSTATE only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy import exc

from application.errors import ConcurrentUpdate, DependencyUnavailable, StoreRefusedValue

DATABASE = "database"


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turns a refused constraint into ConcurrentUpdate, a value the database cannot hold into
    StoreRefusedValue, and every failure to reach or use the database in time (connection refused
    or lost, pool exhausted, statement or lock timeout) into DependencyUnavailable."""
    try:
        yield
    except exc.IntegrityError as error:
        raise ConcurrentUpdate(
            f"a constraint of the store refused the change ({_name(error)})"
        ) from None
    except exc.DataError as error:
        raise StoreRefusedValue(f"the database refused a value ({_name(error)})") from None
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, exc.DBAPIError) as error:
        raise DependencyUnavailable(DATABASE, cause=_name(error)) from None
    except (TimeoutError, OSError) as error:
        raise DependencyUnavailable(DATABASE, cause=type(error).__name__) from None


def driver_error(error: BaseException) -> BaseException:
    """The application error for what an asyncpg statement raised, by ``translated_errors``'s
    rules; anything else, and a lock not available (its caller's own rule), comes back as it is."""
    if isinstance(error, asyncpg.LockNotAvailableError) or not isinstance(
        error, asyncpg.PostgresError
    ):
        return error
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        return ConcurrentUpdate(
            f"a constraint of the store refused the change ({described(error)})"
        )
    if isinstance(error, asyncpg.DataError):
        return StoreRefusedValue(f"the database refused a value ({described(error)})")
    return DependencyUnavailable(DATABASE, cause=described(error))


def described(error: BaseException) -> str:
    """The driver's error class and SQLSTATE, e.g. ``QueryCanceledError, SQLSTATE 57014``."""
    sqlstate = getattr(error, "sqlstate", None)
    name = type(error).__name__
    return f"{name}, SQLSTATE {sqlstate}" if sqlstate else name


def _name(error: exc.SQLAlchemyError) -> str:
    """``described`` of the driver's error under SQLAlchemy's."""
    original = getattr(error, "orig", None)
    return type(error).__name__ if original is None else described(original)
