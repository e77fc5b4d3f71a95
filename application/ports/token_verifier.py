from dataclasses import dataclass, field
from typing import Final, Protocol, TypeGuard

from application.storable_text import is_storable

MAX_SUBJECT_LENGTH: Final = 255
"""The longest ``sub`` the stores hold (every table's ``user_id`` column)."""


def is_acceptable_subject(subject: object) -> TypeGuard[str]:
    """Whether a token's ``sub`` can name a user here: a string the stores can hold. A token whose
    subject is not is refused at the token check (401), for every route, never failing later in
    the database as if it were down."""
    return isinstance(subject, str) and is_storable(subject, MAX_SUBJECT_LENGTH)


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
            InvalidToken: malformed, badly signed, expired, not yet valid, wrong issuer or audience,
                or a subject that fails :func:`is_acceptable_subject`.
            DependencyUnavailable: the signing keys cannot be fetched and none are cached.
        """
        ...
