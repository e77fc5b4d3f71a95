"""Errors that use cases and ports raise. The HTTP layer maps each to one problem type."""


class ApplicationError(Exception):
    """Base class of every failure a use case reports."""


class DependencyUnavailable(ApplicationError):
    """A dependency (database, Vault, the identity provider's keys) is down, too slow or refused us.

    Nothing was written. Retrying later may succeed; ``retry_after`` is a hint in seconds.
    """

    def __init__(self, dependency: str, retry_after: int = 2, *, cause: str | None = None) -> None:
        super().__init__(f"{dependency} is unavailable")
        self.dependency = dependency
        self.retry_after = retry_after
        self.cause = cause
        """What went wrong, for the operator's log: never a statement's parameters or a secret."""


class InvalidToken(ApplicationError):
    """The bearer token is malformed, badly signed, expired, not yet valid, or not for us."""


class MissingToken(ApplicationError):
    """No bearer token came with the request."""


class InsufficientScope(ApplicationError):
    """The token is valid but lacks the scope this service requires."""


class ConcurrentUpdate(ApplicationError):
    """Another request changed the same data first; the change was not applied."""


class ActivatedMeanwhile(ConcurrentUpdate):
    """A start that asked no step-up, as its user held no active authenticator, found one
    activated when it came to store: it needs the step-up after all."""


class StoreRefusedValue(ApplicationError):
    """The store refused a value as malformed (too long, not encodable): a gap in the service's
    own input checks, never an outage. Its message names the kind of error, never the value."""


class ThrottleBusy(ApplicationError):
    """Another check of the same user holds the user's attempt throttle right now."""

    retry_after = 1


class SecretUnreadable(ApplicationError):
    """A stored ciphertext failed to decrypt: tampered, moved to another owner, or its key is gone."""


class EnrollmentNotFound(ApplicationError):
    """No such enrollment for this user (another user's is not found either)."""


class NoActiveAuthenticator(ApplicationError):
    """The user has no active authenticator to check a code against."""


class CodeRejected(ApplicationError):
    """The code is wrong or was used already; both get this same answer (SECURITY.md V4)."""

    def __init__(self, attempts_left: int) -> None:
        super().__init__("the code is not valid")
        self.attempts_left = attempts_left


class StepUpRequired(ApplicationError):
    """The change needs a more recent authentication with a second factor (RFC 9470)."""

    def __init__(self, max_age: int) -> None:
        super().__init__("a recent authentication with a second factor is required")
        self.max_age = max_age


class SecondFactorSignInRequired(StepUpRequired):
    """The same, where only a sign-in with a second factor counts, not a code sent with the
    request (a helpdesk agent's change)."""


class TooManyAuthenticators(ApplicationError):
    """The user holds the most active authenticators allowed."""


class DeviceClockSkew(CodeRejected):
    """At confirmation: the code is the device's for a time some steps away; its clock is off."""

    def __init__(self, attempts_left: int, skew_seconds: int) -> None:
        super().__init__(attempts_left)
        self.skew_seconds = skew_seconds


class AuthenticatorParametersIgnored(CodeRejected):
    """At confirmation: the code is the SHA1 / 6 digits / 30 s one, so the app ignored the
    configured algorithm, digits or period (SECURITY.md S2)."""


class EnrollmentRateLimited(ApplicationError):
    """Too many enrollments started recently; each costs a key-service encryption."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many enrollments started; retry later")
        self.retry_after = retry_after


class AnswerNotRepeatable(ApplicationError):
    """An idempotent retry of a request whose answer was shown once (new recovery codes)."""


class UserNotFound(ApplicationError):
    """The service holds no authenticator, recovery code or throttle of this user."""


class InvalidAdminRequest(ApplicationError):
    """An agent's request is malformed: a reason or ticket out of bounds, a cursor that is not one
    of ours, a time range the wrong way round, a page size over the bound. ``field`` names the
    offending field or parameter."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field
