"""Bearer tokens for the suite: the test identity provider that signs good tokens, and the pieces to
forge bad ones. JWS compact serialization is assembled by hand (RFC 7515 section 7.1), so that any
header, payload or signature can be produced, however wrong; keys are generated with joserfc."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc.jwk import ECKey, KeyParameters, RSAKey

ABSENT: Any = None
"""A claim given as ``None`` to ``mint`` is left out of the token."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: object) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def decode_segment(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def split_token(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The header, the payload and the (still encoded) signature of a compact JWS."""
    header, payload, signature = token.split(".")
    return decode_segment(header), decode_segment(payload), signature


@dataclass(frozen=True)
class SigningKey:
    """An asymmetric signing key (ES256 on P-256, or RS256) that signs any header and payload."""

    private: ECKey | RSAKey

    @classmethod
    def generate(cls, alg: str = "ES256") -> SigningKey:
        parameters: KeyParameters = {"alg": alg, "use": "sig"}
        if alg == "ES256":
            return cls(ECKey.generate_key("P-256", parameters=parameters, auto_kid=True))
        if alg == "RS256":
            return cls(RSAKey.generate_key(2048, parameters=parameters, auto_kid=True))
        raise ValueError(f"unsupported algorithm {alg}")

    @property
    def alg(self) -> str:
        return "ES256" if isinstance(self.private, ECKey) else "RS256"

    @property
    def kid(self) -> str:
        return str(self.private.kid)

    def public_jwk(self) -> dict[str, Any]:
        return dict(self.private.as_dict(private=False))

    def sign(self, header: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
        """A compact JWS of exactly ``header`` and ``payload`` signed with this key."""
        return self.sign_raw(header, json.dumps(payload, separators=(",", ":")).encode("utf-8"))

    def sign_raw(self, header: Mapping[str, Any], payload: bytes) -> str:
        """A compact JWS of ``header`` and any ``payload`` bytes, JSON or not."""
        signing_input = f"{b64url_json(header)}.{b64url(payload)}".encode("ascii")
        key = self.private.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        elif isinstance(key, rsa.RSAPrivateKey):
            signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:  # pragma: no cover - generate() makes only the two kinds above
            raise TypeError(type(key))
        return f"{signing_input.decode('ascii')}.{b64url(signature)}"


@dataclass
class TokenIssuer:
    """The suite's identity provider: its signing keys, its published JWKS, and tokens with any
    claims. ``rotate`` replaces the signing key, as an identity provider's key rotation does."""

    issuer: str
    audience: str
    scope: str | None = None
    """Put in every token unless a test says otherwise (``scope=None`` leaves it out)."""
    key: SigningKey = field(default_factory=SigningKey.generate)
    retired: list[SigningKey] = field(default_factory=list)

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.public_jwk()]}

    def write_jwks(self, path: Path) -> Path:
        path.write_text(json.dumps(self.public_jwks()), encoding="utf-8")
        return path

    def rotate(self) -> None:
        self.retired.append(self.key)
        self.key = SigningKey.generate()

    def claims(self, subject: str, now: float | None = None, /, **claims: Any) -> dict[str, Any]:
        """Standard claims for ``subject`` at ``now``, with ``claims`` replacing or (as None)
        removing any of them."""
        moment = int(time.time() if now is None else now)
        standard: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": moment,
            "nbf": moment,
            "exp": moment + 900,
            "auth_time": moment,
            "jti": secrets.token_urlsafe(12),
            "scope": self.scope,
        }
        standard.update(claims)
        return {name: value for name, value in standard.items() if value is not None}

    def mint(self, subject: str, now: float | None = None, /, **claims: Any) -> str:
        """A token signed with the current key (header ``alg`` and ``kid``)."""
        return self.mint_with_header(
            {"alg": self.key.alg, "kid": self.key.kid}, subject, now, **claims
        )

    def mint_with_header(
        self, header: Mapping[str, Any], subject: str, now: float | None = None, /, **claims: Any
    ) -> str:
        """A token signed with the current key under exactly ``header``, however wrong."""
        return self.key.sign(header, self.claims(subject, now, **claims))
