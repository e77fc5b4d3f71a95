"""Errors raised when a domain rule is broken."""


class DomainError(Exception):
    """Base class of every broken domain rule."""


class InvalidTotpPolicy(DomainError):
    """The TOTP parameters are outside what RFC 4226 / RFC 6238 allow."""


class InvalidSecret(DomainError):
    """The bytes or text given are not an acceptable TOTP secret."""


class InvalidOtpauthLabel(DomainError):
    """The issuer or account name cannot appear in an otpauth label."""


class InvalidDeviceName(DomainError):
    """A device name must be 1 to 64 printable characters."""

    field = "deviceName"


class UnsupportedMfaMethod(DomainError):
    """Only the methods on the allow-list can be enrolled."""


class InvalidCodeFormat(DomainError):
    """A one-time or recovery code that is not in the form the user is shown; ``field`` names
    where it was sent."""

    def __init__(self, message: str, field: str = "code") -> None:
        super().__init__(message)
        self.field = field


class EnrollmentNotPending(DomainError):
    """Only a pending enrollment can be confirmed."""


class EnrollmentExpired(DomainError):
    """The pending enrollment passed its expiry; start a new one."""


class StepAlreadyUsed(DomainError):
    """A code's time step at or before the last accepted one: a replay (RFC 6238 section 5.2)."""


class LockedOut(DomainError):
    """Too many consecutive failures; checks are blocked for ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; retry in {retry_after} s")
        self.retry_after = retry_after
