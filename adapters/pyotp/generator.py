"""TOTP codes computed by pyotp."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pyotp

from domain.policy import HashAlgorithm, TotpPolicy
from domain.secret import TotpSecret

_DIGESTS: dict[HashAlgorithm, Callable[..., Any]] = {
    HashAlgorithm.SHA1: hashlib.sha1,
    HashAlgorithm.SHA256: hashlib.sha256,
    HashAlgorithm.SHA512: hashlib.sha512,
}


class PyotpGenerator:
    """Implements OtpGenerator with ``pyotp.HOTP`` on the time step (RFC 6238 is HOTP of T).

    Only ``generate_otp`` is used: pyotp's own ``verify`` normalises Unicode digits and accepts
    integers, which the service refuses before it gets here (SECURITY.md V3).
    """

    def code_at(self, secret: TotpSecret, policy: TotpPolicy, step: int) -> str:
        hotp = pyotp.HOTP(secret.base32, digits=policy.digits, digest=_DIGESTS[policy.algorithm])
        code: str = hotp.generate_otp(step)
        return code
