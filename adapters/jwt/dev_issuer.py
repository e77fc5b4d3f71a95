"""A local token issuer for the development profile only: it stands in for the identity provider.

It keeps one ES256 (P-256) private key on disk, publishes the matching public JWKS next to it
(read by ``JwksFileSource``), and mints access tokens that ``JwtTokenVerifier`` accepts. Never wire
it into a production profile: whoever can read the key file can impersonate any user.
"""

import json
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

KEY_FILE_NAME: Final = "dev-issuer-key.json"
JWKS_FILE_NAME: Final = "dev-issuer-jwks.json"
ALGORITHM: Final = "ES256"
_RESERVED_CLAIMS: Final = frozenset(
    {"iss", "aud", "sub", "iat", "nbf", "exp", "jti", "auth_time", "amr", "scope"}
)


class DevelopmentIssuer:
    """Mints ES256 JWTs for one issuer and audience with a key kept in a local directory."""

    def __init__(self, key: ECKey, *, issuer: str, audience: str, jwks_path: Path) -> None:
        """Prefer ``load_or_create``. ``key`` must be a private P-256 key with a ``kid``."""
        if not key.is_private or key.curve_name != "P-256" or not key.kid:
            raise ValueError("the development issuer needs a private P-256 key with a kid")
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._jwks_path = jwks_path

    @classmethod
    def load_or_create(cls, directory: Path, issuer: str, audience: str) -> "DevelopmentIssuer":
        """The issuer whose key is ``directory/dev-issuer-key.json``, creating the key if missing.

        A new directory is created with mode 0700 and a new key file with mode 0600 (created
        exclusively, never readable by others, not even briefly). The public key set is (re)written
        to ``directory/dev-issuer-jwks.json`` each time. Loading existing files gives the same key.

        Raises:
            OSError: the directory or files cannot be created, read or written.
            ValueError: the key file exists but does not hold a private P-256 key.
        """
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_path = directory / KEY_FILE_NAME
        key = None if key_path.exists() else _create_key(key_path)
        if key is None:
            key = _load_key(key_path)
        jwks_path = directory / JWKS_FILE_NAME
        _write_public_jwks(key, jwks_path)
        return cls(key, issuer=issuer, audience=audience, jwks_path=jwks_path)

    @property
    def jwks_path(self) -> Path:
        """The public JWKS file that a ``JwksFileSource`` should read."""
        return self._jwks_path

    @property
    def kid(self) -> str:
        """The key id (the key's RFC 7638 thumbprint) put in every token header."""
        return str(self._key.kid)

    def mint(
        self,
        subject: str,
        *,
        ttl_seconds: int = 900,
        now: int,
        auth_time: int | None = None,
        amr: Sequence[str] | None = None,
        scope: str | None = None,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed JWT (compact JWS) for ``subject``.

        It carries ``iss``, ``aud``, ``sub``, ``iat`` = ``nbf`` = ``now``, ``exp`` = ``now`` +
        ``ttl_seconds``, a random ``jti``, ``auth_time`` (``now`` unless given), and ``amr`` and
        ``scope`` when given. ``extra_claims`` adds other claims; it cannot replace these.

        Raises:
            ValueError: an empty subject, a non-positive ``ttl_seconds``, or ``extra_claims`` naming
                one of the claims above.
        """
        if not subject:
            raise ValueError("subject must be non-empty")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        extra = dict(extra_claims or {})
        clashing = _RESERVED_CLAIMS.intersection(extra)
        if clashing:
            raise ValueError(f"extra_claims may not set {sorted(clashing)}")
        claims: dict[str, Any] = {
            **extra,
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": secrets.token_urlsafe(16),
            "auth_time": now if auth_time is None else auth_time,
        }
        if amr is not None:
            claims["amr"] = list(amr)
        if scope is not None:
            claims["scope"] = scope
        header = {"alg": ALGORITHM, "kid": self.kid}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM])


def _create_key(key_path: Path) -> ECKey | None:
    """A new key written to ``key_path``, or None if another process created the file first."""
    key = ECKey.generate_key("P-256", parameters={"alg": ALGORITHM, "use": "sig"}, auto_kid=True)
    document = json.dumps(key.as_dict(private=True)).encode("utf-8")
    try:
        descriptor = os.open(key_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return None
    with os.fdopen(descriptor, "wb") as file:
        file.write(document)
    return key


def _load_key(key_path: Path) -> ECKey:
    not_a_key = ValueError(f"{key_path} does not hold a private P-256 JWK")
    document = json.loads(key_path.read_bytes())
    if not isinstance(document, dict):
        raise not_a_key
    try:
        key = ECKey.import_key(document)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise not_a_key from error
    if not key.is_private or key.curve_name != "P-256":
        raise not_a_key
    key.ensure_kid()
    return key


def _write_public_jwks(key: ECKey, jwks_path: Path) -> None:
    # Written aside and renamed, so a verifier reading the file never sees half of it.
    temporary = jwks_path.with_name(f".{jwks_path.name}.{secrets.token_hex(4)}")
    temporary.write_text(json.dumps(KeySet([key]).as_dict(private=False)), encoding="utf-8")
    temporary.replace(jwks_path)
