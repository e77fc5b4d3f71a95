"""Errors that use cases and ports raise. The HTTP layer maps each to one problem type."""


class ApplicationError(Exception):
    """Base class of every failure a use case reports."""


class DependencyUnavailable(ApplicationError):
    """A dependency (database, Vault, the identity provider's keys) is down, too slow or refused us.

    Nothing was written. Retrying later may succeed; ``retry_after`` is a hint in seconds.
    """

    def __init__(self, dependency: str, retry_after: int = 2) -> None:
        super().__init__(f"{dependency} is unavailable")
        self.dependency = dependency
        self.retry_after = retry_after


class InvalidToken(ApplicationError):
    """The bearer token is malformed, badly signed, expired, not yet valid, or not for us."""


class MissingToken(ApplicationError):
    """No bearer token came with the request."""


class InsufficientScope(ApplicationError):
    """The token is valid but lacks the scope this service requires."""


class ConcurrentUpdate(ApplicationError):
    """Another request changed the same data first; the change was not applied."""


class SecretUnreadable(ApplicationError):
    """A stored ciphertext failed to decrypt: tampered, moved to another owner, or its key is gone."""
