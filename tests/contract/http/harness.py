"""What the fixtures of ``conftest.py`` give the tests, as types free of the service's code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from tests.contract.http.http_server import CountingServer
from tests.contract.http.tokens import TokenIssuer

MintToken = Callable[..., str]
"""``mint_token(sub, **claims)``: a bearer token the service trusts (see the fixture)."""

FindInDatabase = Callable[[str], Awaitable[list[str]]]
"""``await find_in_database(text)``: every ``table.column`` of the service's database holding it."""


class Clock(Protocol):
    """The service's clock, as the tests move it."""

    def now(self) -> float:
        """Seconds since the epoch, as the service sees them."""
        ...

    def advance(self, seconds: float) -> None: ...


@dataclass
class KeysByUrl:
    """A service that reads its identity provider's keys from a URL the suite serves and counts."""

    client: httpx.AsyncClient
    jwks: CountingServer
    issuer: TokenIssuer
    """The identity provider behind ``jwks``; rotate it, then ``publish()``."""

    def publish(self) -> None:
        self.jwks.serve(self.issuer.public_jwks())
