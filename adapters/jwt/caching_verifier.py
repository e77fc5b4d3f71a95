"""Verified tokens remembered, so that a client's next request with the same token skips the
signature check (the largest part of a token check's CPU).

Rules: an entry is found by the SHA-256 of the token (the cache never holds a token), is used only
while ``now < exp`` on the verifier's clock, and only under the key set it was verified with: when
a fetch brings different keys, or the keys are due for a refresh, every entry is dropped or
bypassed. At most ``max_entries`` are kept, the least recently used going first. Only tokens that
passed every check of ``JwtTokenVerifier.verify`` are stored; a refused token is checked again
each time.
"""

import hashlib
from collections import OrderedDict
from typing import Final

from adapters.jwt.verifier import JwtTokenVerifier
from application.ports.token_verifier import Principal

DEFAULT_MAX_ENTRIES: Final = 10_000


class CachingTokenVerifier:
    """A ``TokenVerifier`` that keeps the principals of verified tokens until they expire."""

    def __init__(self, verifier: JwtTokenVerifier, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        """Raises ValueError for a bound below 1."""
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._verifier = verifier
        self._max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._key_set_version: int | None = None

    def __len__(self) -> int:
        return len(self._entries)

    async def verify(self, token: str) -> Principal:
        """As ``JwtTokenVerifier.verify``; a token verified before and still valid is not checked
        again."""
        if not isinstance(token, str):
            return await self._verifier.verify(token)  # it says what is wrong
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        current = self._verifier.key_set_version()
        if current is not None:  # None: keys missing or due for a refresh, which a full check does
            self._adopt(current)
            entry = self._entries.get(digest)
            if entry is not None:
                principal, expires_at = entry
                if self._verifier.now() < expires_at:
                    self._entries.move_to_end(digest)
                    return principal
                del self._entries[digest]
        verified = await self._verifier.verified(token)
        self._adopt(verified.key_set_version)
        if verified.key_set_version == self._key_set_version:  # else the keys changed meanwhile
            self._entries[digest] = (verified.principal, verified.expires_at)
            self._entries.move_to_end(digest)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return verified.principal

    def _adopt(self, version: int) -> None:
        """Drops every entry when the verifier holds a newer key set than they were checked with."""
        if self._key_set_version is None or version > self._key_set_version:
            self._entries.clear()
            self._key_set_version = version
