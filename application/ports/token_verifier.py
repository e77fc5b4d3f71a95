from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user, as the validated access token tells."""

    subject: str
    """The token's ``sub``: the only identity the service trusts."""
    display_name: str | None = None
    """A human-readable account name, when the token carries one."""
    auth_time: int | None = None
    """When the user last authenticated (epoch seconds), from ``auth_time``."""
    scopes: frozenset[str] = field(default_factory=frozenset)
    amr: tuple[str, ...] = ()
    """Authentication methods used (RFC 8176), from ``amr``."""
    acr: str | None = None
    """The authentication context class reached, from ``acr``."""


class TokenVerifier(Protocol):
    """Validates bearer access tokens (RFC 6750)."""

    async def verify(self, token: str) -> Principal:
        """The principal the token names, once signature and claims are checked.

        Raises:
            InvalidToken: malformed, badly signed, expired, not yet valid, wrong issuer or audience.
            DependencyUnavailable: the signing keys cannot be fetched and none are cached.
        """
        ...
