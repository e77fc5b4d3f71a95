"""An independent TOTP implementation (RFC 6238 on RFC 4226), written from the RFCs with the standard
library only, so that the suite never checks the service against the library the service uses."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}

STEP_MARGIN_SECONDS = 3.0
"""A code computed with less than this left in its time step waits for the next step."""


def hotp(key: bytes, counter: int, digits: int = 6, algorithm: str = "SHA1") -> str:
    """RFC 4226 section 5.3: HMAC, dynamic truncation, modulo 10^digits, zero-padded."""
    mac = hmac.new(key, counter.to_bytes(8, "big"), _DIGESTS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    binary = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(binary % 10**digits).zfill(digits)


def totp(
    secret_base32: str, at: float, *, digits: int = 6, period: int = 30, algorithm: str = "SHA1"
) -> str:
    """RFC 6238 section 4: the HOTP value of the time step ``floor(at / period)``."""
    padded = secret_base32.upper() + "=" * (-len(secret_base32) % 8)
    return hotp(base64.b32decode(padded), int(at // period), digits, algorithm)


@dataclass(frozen=True, slots=True)
class Authenticator:
    """What an authenticator app keeps after scanning the QR code: the otpauth URI's parameters."""

    secret: str
    algorithm: str
    digits: int
    period: int

    @classmethod
    def from_enrollment(cls, enrollment: Mapping[str, Any]) -> Authenticator:
        """Reads the otpauth URI as an app would (Key URI Format), and checks that it carries the
        very secret and parameters the response states."""
        uri = urlsplit(enrollment["otpauthUri"])
        assert (uri.scheme, uri.netloc) == ("otpauth", "totp"), uri
        query = {name: values[0] for name, values in parse_qs(uri.query).items()}
        app = cls(
            secret=query["secret"],
            algorithm=query.get("algorithm", "SHA1"),
            digits=int(query.get("digits", "6")),
            period=int(query.get("period", "30")),
        )
        assert app.secret == enrollment["secret"]
        assert (app.algorithm, app.digits, app.period) == (
            enrollment["algorithm"],
            enrollment["digits"],
            enrollment["period"],
        )
        assert unquote(uri.path.lstrip("/")).split(":", 1)[0] == query["issuer"]
        return app

    def code(self, at: float, steps: int = 0) -> str:
        """The code the app shows ``steps`` time steps after ``at``."""
        return totp(
            self.secret,
            at + steps * self.period,
            digits=self.digits,
            period=self.period,
            algorithm=self.algorithm,
        )

    def wrong_code(self, at: float) -> str:
        """A well-formed code that matches no step within ten steps of ``at`` (so it is neither
        accepted nor taken for a device whose clock is off)."""
        window = {self.code(at, steps) for steps in range(-11, 12)}
        candidate = int(self.code(at))
        while True:
            candidate = (candidate + 1) % 10**self.digits
            text = str(candidate).zfill(self.digits)
            if text not in window:
                return text


async def next_step(now: float, period: int = 30) -> float:
    """The time, once the server's clock is in the step after ``now``'s (settled as by
    ``settled_now``): what a user waits for when the app's next code is needed."""
    await asyncio.sleep(max(0.0, period - now % period + 0.05 - (time.time() - now)))
    return await settled_now(period)


async def settled_now(period: int = 30, margin: float = STEP_MARGIN_SECONDS) -> float:
    """The current time, once at least ``margin`` seconds are left in the current time step, so that
    a code computed now is still the server's current code when it arrives."""
    left = period - time.time() % period
    if left < margin:
        await asyncio.sleep(left + 0.05)
    return time.time()
