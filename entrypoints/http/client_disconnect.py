"""A client that hangs up before its request was read is a fact of networks, not a fault of ours:
it is logged at INFO without a traceback and counted as 499 (nginx's "client closed request"),
never as a 500 that pages someone (issue 11, outside test)."""

from __future__ import annotations

from typing import Any, Final

from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

CLIENT_CLOSED_REQUEST: Final = 499
_GONE = "mfa_client_gone"


def client_disconnect_middleware(app: ASGIApp) -> ASGIApp:
    """Notes in the scope when the server reports that the client went away."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def noting_receive() -> ReceiveMessage:
            message = await receive()
            if message["type"] == "http.disconnect":
                scope_dict: Any = scope
                scope_dict[_GONE] = True
            return message

        await app(scope, noting_receive, send)

    return middleware


def client_went_away(scope: Scope) -> bool:
    scope_dict: Any = scope
    return bool(scope_dict.get(_GONE))
