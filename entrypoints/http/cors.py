"""CORS for the bank's web front end (``MFA_CORS_ORIGINS``; closed when none is set): the request
headers and methods the API uses and no others, the answer headers a script must read (a lockout's
``Retry-After``, a step-up's ``WWW-Authenticate``, the request id), and a refused preflight answered
as problem+json like every other error (Litestar answers it in plain text)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import msgspec
from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.status_codes import HTTP_400_BAD_REQUEST
from litestar.types import Message, Scope

from entrypoints.http.problems import PROBLEM_JSON, TYPE_PREFIX
from entrypoints.http.schemas import Problem

ALLOWED_HEADERS: Final = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "X-MFA-Code",
    "X-Request-Id",
)
ALLOWED_METHODS: Final = ("DELETE", "GET", "HEAD", "PATCH", "POST")
EXPOSED_HEADERS: Final = ("Retry-After", "WWW-Authenticate", "X-Request-Id")

_REFUSED: Final = msgspec.json.encode(
    Problem(
        type=TYPE_PREFIX + "cors-refused",
        title="Cross-origin request refused",
        status=HTTP_400_BAD_REQUEST,
        detail="This origin, method or request header is not allowed to call the service.",
    )
)
_REFUSING: Final = "mfa_refusing_preflight"


def cors_config(origins: Sequence[str]) -> CORSConfig | None:
    """What the web front ends at ``origins`` may do; None (CORS closed) without any."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=list(origins),
        allow_headers=list(ALLOWED_HEADERS),
        allow_methods=list(ALLOWED_METHODS),
        expose_headers=list(EXPOSED_HEADERS),
    )


async def refused_preflight_as_problem(message: Message, scope: Scope) -> None:
    """``before_send`` hook: Litestar's 400 to a preflight it refuses becomes the ``cors-refused``
    problem."""
    scope_dict: Any = scope
    if message["type"] == "http.response.start":
        if message["status"] != HTTP_400_BAD_REQUEST or scope_dict.get("method") != "OPTIONS":
            return
        headers = MutableScopeHeaders.from_message(message)
        if not headers.get("content-type", "").startswith("text/plain"):
            return
        headers["Content-Type"] = PROBLEM_JSON
        headers["Content-Length"] = str(len(_REFUSED))
        scope_dict[_REFUSING] = True
    elif message["type"] == "http.response.body" and scope_dict.get(_REFUSING):
        message["body"] = _REFUSED
