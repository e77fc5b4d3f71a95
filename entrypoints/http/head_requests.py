"""HEAD is GET without the content (RFC 9110 9.3.2; every general-purpose server must support it):
each resource that answers GET answers HEAD with the same status and headers, ``Content-Length``
included, and no body. Litestar routes HEAD only to handlers declared for HEAD, and refuses those that
return a body, so the served app hands it a GET and sends the answer without its content."""

from __future__ import annotations

from typing import Any, Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_SENT_AS_HEAD: Final = "mfa_sent_as_head"


def with_head_as_get(app: ASGIApp) -> ASGIApp:
    """``app`` answering HEAD as it answers GET, without the body. The server's scope keeps HEAD, so
    uvicorn, too, knows to send no content."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await app(scope, receive, send)
            return

        async def send_without_content(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        as_get: Any = {**scope, "method": "GET", _SENT_AS_HEAD: True}
        await app(as_get, receive, send_without_content)

    return application


def method_of(scope: Any) -> Any:
    """The method the client sent (HEAD for a request served as GET), for logs, metrics and spans."""
    return "HEAD" if scope.get(_SENT_AS_HEAD) else scope.get("method")
