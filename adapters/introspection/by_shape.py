"""Both kinds of bearer token at once (``MFA_TOKEN_MODE=both``): a JWT is checked locally against
the identity provider's keys, anything else is introspected."""

import re
from typing import Final

from application.ports.token_verifier import Principal, TokenVerifier

_COMPACT_JWS: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
"""A JWS in compact serialization (RFC 7515 §7.1): three base64url segments."""


class JwtOrIntrospection:
    """Implements ``TokenVerifier``: a token shaped as a signed JWT goes to ``jwt``, any other
    (opaque, or a five-segment JWE) to ``introspection``. Each raises what it raises; a JWT is never
    introspected when its local check fails."""

    def __init__(self, *, jwt: TokenVerifier, introspection: TokenVerifier) -> None:
        self._jwt = jwt
        self._introspection = introspection

    async def verify(self, token: str) -> Principal:
        if _COMPACT_JWS.fullmatch(token) is not None:
            return await self._jwt.verify(token)
        return await self._introspection.verify(token)
