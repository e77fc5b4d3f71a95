"""The allow-list of second-factor methods that can be enrolled."""

from enum import StrEnum

from domain.errors import UnsupportedMfaMethod


class MfaMethod(StrEnum):
    """A method of second factor. Today only authenticator apps (TOTP)."""

    TOTP = "totp"

    @classmethod
    def parse(cls, text: str) -> "MfaMethod":
        """The method named ``text``.

        Raises:
            UnsupportedMfaMethod: ``text`` is not on the allow-list.
        """
        try:
            return cls(text)
        except ValueError:
            raise UnsupportedMfaMethod(f"unsupported mfaMethod {text!r}") from None
