"""A guard that admits only well-formed JSON bodies, before Litestar parses them.

Litestar by itself parses bodies of any content type as JSON and answers 500 for invalid UTF-8 and
for deeply nested documents (SECURITY.md H1); this guard turns each case into 415 or 400.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias, TypeVar, cast

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions import SerializationException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body

from entrypoints.http.problems import MalformedBody, UnsupportedMediaType


def _is_json(content_type: str) -> bool:
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip().lower() != "application/json":
        return False
    for parameter in filter(None, (part.strip() for part in parameters.split(";"))):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            return False
    return True


async def require_json_body(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Raises UnsupportedMediaType (415) or MalformedBody (400); a body over the size limit is
    refused with 413 by Litestar while it is read."""
    if not _is_json(connection.headers.get("content-type", "")):
        raise UnsupportedMediaType("the body must be application/json")
    request = cast("Request[Any, Any, Any]", connection)
    body = await request.body()
    if not body.strip():
        raise MalformedBody("a JSON body is required")
    try:
        body.decode("utf-8")
        await request.json()  # parsed once; Litestar reuses the result for the handler's data
    except UnicodeDecodeError:
        raise MalformedBody("the body is not valid UTF-8") from None
    except RecursionError:
        raise MalformedBody("the JSON is nested too deeply") from None
    except SerializationException:
        raise MalformedBody("the body is not well-formed JSON") from None


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
