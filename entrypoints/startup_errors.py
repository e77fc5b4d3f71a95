"""Start-up failures a person reads in one line: the setting, its target without credentials, and
the cause, instead of the traceback of whichever driver noticed first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_MAX_CAUSE_CHARS: Final = 300


class StartupError(Exception):
    """A dependency or a setting stopped the start: ``setting`` (``target``): ``cause``."""

    def __init__(self, setting: str, target: str, cause: str) -> None:
        super().__init__(f"{setting} ({target}): {cause}")
        self.setting = setting
        self.target = target
        self.cause = cause


@contextmanager
def startup_step(setting: str, target: str, *, hidden: tuple[str, ...] = ()) -> Iterator[None]:
    """Turns any failure inside the block into a StartupError naming ``setting`` and ``target``.

    ``hidden``: values (a password) that must not appear in the cause even if a driver quotes them.
    """
    try:
        yield
    except StartupError:
        raise
    except Exception as error:
        raise StartupError(setting, target, describe_cause(error, hidden)) from error


def describe_cause(error: BaseException, hidden: tuple[str, ...] = ()) -> str:
    """The innermost cause of ``error`` in one line: what the driver or the system said."""
    innermost = _innermost(error)
    text = " ".join(str(innermost).split())
    if isinstance(innermost, OSError) and innermost.strerror and not innermost.filename:
        text = innermost.strerror
    if not text:
        text = type(innermost).__name__
    elif isinstance(innermost, TimeoutError | ConnectionError):
        text = f"{type(innermost).__name__}: {text}"
    for value in hidden:
        if value:
            text = text.replace(value, "***")
    if len(text) > _MAX_CAUSE_CHARS:
        text = text[: _MAX_CAUSE_CHARS - 1] + "…"
    return text


def _innermost(error: BaseException) -> BaseException:
    seen: set[int] = set()
    current = error
    while id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            current = current.exceptions[0]
            continue
        following = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
        if following is None:
            break
        current = following
    return current


def database_target(url: str) -> str:
    """Where ``url`` points, without user or password: ``host:port/database`` or the SQLite file."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "an unparsable URL"
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def database_password(url: str) -> str:
    """The password in ``url`` (empty if none), to keep it out of error messages."""
    try:
        password = make_url(url).password
    except ArgumentError:
        return ""
    return str(password or "")
