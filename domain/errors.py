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


class UnsupportedMfaMethod(DomainError):
    """Only the methods on the allow-list can be enrolled."""
