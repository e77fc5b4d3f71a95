"""OpenAPI descriptions of the error responses a route can give."""

from __future__ import annotations

from http import HTTPStatus

from litestar.openapi.datastructures import ResponseSpec

from entrypoints.http.problems import PROBLEM_JSON
from entrypoints.http.schemas import Problem

BEARER_TOKEN: list[dict[str, list[str]]] = [{"BearerToken": []}]
"""``security=`` of every route that needs an access token (the health routes do not)."""

_WHY: dict[int, str] = {
    400: "Malformed JSON, invalid UTF-8, too deep nesting, an unknown, missing or invalid field; "
    "or a wrong or replayed code (the same answer for both).",
    401: "Missing, malformed, badly signed, expired, not-yet-valid or foreign access token; "
    "see WWW-Authenticate.",
    403: "The access token lacks the required scope.",
    404: "No such resource for this user.",
    409: "A concurrent request changed the same data, or the authenticator is active already.",
    413: "The body is larger than the limit.",
    410: "The pending enrollment expired; start a new one.",
    415: "The body is not application/json.",
    422: "The Idempotency-Key was used with another request body.",
    429: "Too many failed attempts; see Retry-After.",
    500: "Unexpected error; the body carries a correlation id and nothing else.",
    503: "A dependency is unavailable; nothing was changed. See Retry-After.",
}


ANY_AUTHENTICATED_ROUTE = (401, 403, 500, 503)
"""What every route that needs an access token can answer."""


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """``responses=`` for a route that needs an access token: ``statuses`` and those of
    ``ANY_AUTHENTICATED_ROUTE``, each answered with a problem+json body."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=f"{HTTPStatus(status).phrase}. {_WHY[status]}",
        )
        for status in sorted({*ANY_AUTHENTICATED_ROUTE, *statuses})
    }
