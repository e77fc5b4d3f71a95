"""What a request's body may be, checked for every route before Litestar parses it: a route that
takes a body gets well-formed JSON of exactly its schema's types; a write that takes none gets no
body, or ``{}``.

Left to itself, Litestar parses bodies of any content type as JSON, answers 500 for invalid UTF-8
and for deeply nested documents, converts ``"16"`` or ``16.0`` for an integer field (msgspec's lax
mode), and never reads the body of a route that takes none, so a malformed one went unnoticed
while the request changed state (SECURITY.md H1). Each case is a 415 or a 400 here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, TypeAlias, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import Headers
from litestar.enums import RequestEncodingType
from litestar.exceptions import SerializationException, ValidationException
from litestar.params import Body

from entrypoints.http.problems import MalformedBody, UnsupportedMediaType

_READS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_AT_FIELD: Final = re.compile(r"`\$\.(.+)`$")
"""Where msgspec found the error (``… - at `$.qrScale```), as Litestar's ``ERR_RE`` reads it."""


class _NoBody(msgspec.Struct, forbid_unknown_fields=True):
    """What a write that takes no body admits when one is sent anyway: ``{}``."""


def _is_json(content_type: str) -> bool:
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip().lower() != "application/json":
        return False
    for parameter in filter(None, (part.strip() for part in parameters.split(";"))):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            return False
    return True


def _has_body(headers: Headers) -> bool:
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


async def check_request_body(request: Request[Any, Any, Any]) -> None:
    """The app's ``before_request``: returns when the body may go on to the handler.

    Raises:
        UnsupportedMediaType: a body that is not ``application/json`` (415).
        MalformedBody: missing where required, not UTF-8, not JSON, or nested too deeply (400).
        ValidationException: JSON that is not exactly of the route's schema (400, naming the
            fields), or anything but ``{}`` for a route that takes no body.
    A body over the size limit is refused with 413 by Litestar while it is read.
    """
    body_field = request.route_handler.parsed_data_field
    if body_field is None and (request.method in _READS or not _has_body(request.headers)):
        return
    if body_field is not None and not _has_body(request.headers):
        raise MalformedBody("a JSON body is required")
    if not _is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType("the body must be application/json")
    body = await request.body()
    if not body.strip():
        if body_field is None:
            return
        raise MalformedBody("a JSON body is required")
    try:
        body.decode("utf-8")
        parsed = await request.json()  # parsed once; Litestar reuses it for the handler's data
    except UnicodeDecodeError:
        raise MalformedBody("the body is not valid UTF-8") from None
    except RecursionError:
        raise MalformedBody("the JSON is nested too deeply") from None
    except SerializationException:
        raise MalformedBody("the body is not well-formed JSON") from None
    try:
        msgspec.convert(
            parsed, _NoBody if body_field is None else body_field.annotation, strict=True
        )
    except msgspec.ValidationError as error:
        raise _invalid(request, error) from None


def _invalid(
    request: Request[Any, Any, Any], error: msgspec.ValidationError
) -> ValidationException:
    """The error Litestar makes of the same msgspec error, so that every 400 names its field
    alike (``problems._field_errors``)."""
    message, _, where = str(error).partition(" - ")
    at_field = _AT_FIELD.search(where)
    return ValidationException(
        detail=f"Validation failed for {request.method} {request.url.path}",
        extra=[
            {"message": message, "key": at_field.group(1) if at_field else "data", "source": "body"}
        ],
    )


T = TypeVar("T")

StrictJsonBody: TypeAlias = Annotated[
    T,
    Body(media_type=RequestEncodingType.JSON, schema_extra={"additionalProperties": False}),
]
"""A JSON request body whose schema, like its Struct (``forbid_unknown_fields``), admits no other
fields; Litestar leaves ``additionalProperties`` out of the OpenAPI document otherwise."""

OneFieldJsonBody: TypeAlias = Annotated[
    T,
    Body(
        media_type=RequestEncodingType.JSON,
        schema_extra={"additionalProperties": False, "minProperties": 1, "maxProperties": 1},
    ),
]
"""A strict JSON body with exactly one of its optional fields, as the Struct's checks demand."""
