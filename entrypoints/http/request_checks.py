"""The app's one ``before_request`` (Litestar keeps only the nearest layer's): the headers, the query
string, then the body, of every request, before the handler reads any."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request
from litestar.exceptions import ValidationException

from entrypoints.http.json_body import check_request_body
from entrypoints.http.problems import UnsupportedMediaType
from entrypoints.http.query_parameters import check_query_string

SINGLE_HEADERS: Final = {
    b"content-type": "Content-Type",
    b"content-encoding": "Content-Encoding",
    b"idempotency-key": "Idempotency-Key",
    b"x-mfa-code": "X-MFA-Code",
}
"""Headers whose second copy would leave it to chance which one counts (two keys, two codes, a body
of two types): a request that repeats one is refused. Two Authorization headers are the token
check's to refuse (401)."""


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Returns when the request may go on to its handler; raises what the checks raise (400, 413,
    415)."""
    _check_headers(request)
    check_query_string(request)
    await check_request_body(request)


def _check_headers(request: Request[Any, Any, Any]) -> None:
    seen: set[bytes] = set()
    repeated: list[str] = []
    for name, _ in request.scope["headers"]:
        if name in SINGLE_HEADERS:
            if name in seen:
                repeated.append(SINGLE_HEADERS[name])
            seen.add(name)
    if repeated:
        raise ValidationException(
            detail="a header the request may carry once came more than once",
            extra=[
                {"key": name, "source": "header", "message": "given more than once"}
                for name in dict.fromkeys(repeated)
            ],
        )
    encoding = request.headers.get("content-encoding")
    if encoding is not None and encoding.strip().lower() != "identity":
        raise UnsupportedMediaType("the body must be sent without a content coding")
