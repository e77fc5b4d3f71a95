"""What a request's query string may hold on an operation of the OpenAPI document, checked before
Litestar reads it: only the parameters the document lists for that operation, each at most once, and
an integer as plain digits.

Left to itself, Litestar ignores a parameter it does not know (``/admin/audit/export?limit=10``
streamed the whole trail), keeps one value of a repeated parameter, and converts ``1e1`` or ``10.0``
to an integer (msgspec's lax mode). Each is a 400 here, naming the parameter, as an unknown or
ill-typed body field is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from litestar import Litestar, Request
from litestar.exceptions import ValidationException
from litestar.openapi.spec import OpenAPIType, Operation, Parameter

_DIGITS: Final = re.compile(r"0|[1-9][0-9]*")
_METHODS: Final = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True, slots=True)
class _Documented:
    names: frozenset[str]
    integers: frozenset[str]


_OPERATIONS: Final = "mfa_documented_query_parameters"
"""Where the app's state keeps them, found once."""


def check_query_string(request: Request[Any, Any, Any]) -> None:
    """Returns when the query string may go on to the handler.

    Raises:
        ValidationException: a parameter the operation does not document, one given twice, or an
            integer that is not plain digits (400, naming the parameters).
    """
    query = request.scope["query_string"]
    if not query:
        return
    documented = _operations(request.app).get((request.method, request.scope["path_template"]))
    if documented is None:  # not an API operation: the pages, /metrics
        return
    problems: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if name not in documented.names:
            problems[name] = "unknown query parameter"
        elif name in seen:
            problems[name] = "given more than once"
        elif name in documented.integers and not _DIGITS.fullmatch(value):
            problems[name] = "must be an integer in plain digits, without leading zeros"
        seen.add(name)
    if problems:
        raise ValidationException(
            detail=f"Validation failed for {request.method} {request.url.path}",
            extra=[
                {"message": message, "key": name, "source": "query"}
                for name, message in problems.items()
            ],
        )


def _operations(app: Litestar) -> dict[tuple[str, str], _Documented]:
    """(method, route template) -> the query parameters the app's OpenAPI document gives it."""
    found: dict[tuple[str, str], _Documented] | None = app.state.get(_OPERATIONS)
    if found is None:
        found = {}
        for template, item in (app.openapi_schema.paths or {}).items():
            for method in _METHODS:
                operation: Operation | None = getattr(item, method)
                if operation is not None:
                    found[(method.upper(), template)] = _documented(operation)
        app.state[_OPERATIONS] = found
    return found


def _documented(operation: Operation) -> _Documented:
    query = [
        parameter
        for parameter in operation.parameters or []
        if isinstance(parameter, Parameter) and parameter.param_in == "query"
    ]
    return _Documented(
        names=frozenset(parameter.name for parameter in query),
        integers=frozenset(
            parameter.name
            for parameter in query
            if parameter.schema is not None
            and getattr(parameter.schema, "type", None) == OpenAPIType.INTEGER
        ),
    )
