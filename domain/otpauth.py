"""The otpauth URI that authenticator apps scan (Google's Key URI Format).

Format: ``otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30``.
The label is percent-encoded as RFC 3986 asks (a space is ``%20``, never ``+``); neither the issuer
nor the account name may contain a colon; ``issuer=`` repeats the label's prefix so that apps that
read either show the same name; the secret is base32 without padding.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from domain.errors import InvalidOtpauthLabel
from domain.policy import TotpPolicy
from domain.secret import TotpSecret

MAX_LABEL_PART = 64


def _check_part(kind: str, text: str) -> None:
    if not text or not text.strip():
        raise InvalidOtpauthLabel(f"the {kind} must not be empty")
    if len(text) > MAX_LABEL_PART:
        raise InvalidOtpauthLabel(f"the {kind} must be at most {MAX_LABEL_PART} characters")
    if ":" in text:
        raise InvalidOtpauthLabel(f"the {kind} must not contain ':'")
    if not text.isprintable():
        raise InvalidOtpauthLabel(f"the {kind} must be printable")


@dataclass(frozen=True, slots=True)
class OtpauthLabel:
    """``Issuer:account`` as shown in the authenticator app.

    Raises:
        InvalidOtpauthLabel: an empty, overlong or non-printable part, or a colon in either part.
    """

    issuer: str
    account_name: str

    def __post_init__(self) -> None:
        _check_part("issuer", self.issuer)
        _check_part("account name", self.account_name)

    @classmethod
    def for_account(cls, issuer: str, account_name: str) -> OtpauthLabel:
        """A label for a display name that may contain colons, which become ``_``.

        The account name is only what the app shows next to the codes, so the change is cosmetic.
        """
        return cls(issuer, account_name.replace(":", "_")[:MAX_LABEL_PART])


def build_otpauth_uri(secret: TotpSecret, policy: TotpPolicy, label: OtpauthLabel) -> str:
    """The ``otpauth://totp/…`` URI for ``secret`` under ``policy``."""
    issuer = quote(label.issuer, safe="")
    account = quote(label.account_name, safe="")
    return (
        f"otpauth://totp/{issuer}:{account}"
        f"?secret={secret.base32}&issuer={issuer}"
        f"&algorithm={policy.algorithm.value}&digits={policy.digits}&period={policy.period}"
    )
