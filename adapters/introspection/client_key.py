"""The private key this service signs its ``private_key_jwt`` client assertions with (RFC 7523)."""

import json
from pathlib import Path
from typing import Final

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, Key, OKPKey, RSAKey

_ALGORITHM_OF_CURVE: Final = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_MIN_RSA_BITS: Final = 2048
_KEY_TYPES: Final = ("RSA", "EC", "OKP")
SIGNING_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
    | {"EdDSA", "Ed25519", "Ed448"}
)


def load_client_key(path: Path) -> tuple[Key, str]:
    """The private key in ``path`` (a JWK in JSON, or PEM) and the algorithm it signs with.

    The algorithm is the JWK's ``alg`` when it names one, else RS256 for RSA, ES256/384/512 by curve
    for EC, and for OKP keys the curve's own name (RFC 9864 ``Ed25519``/``Ed448``, which replace
    the deprecated ``EdDSA``; a JWK with ``"alg": "EdDSA"`` keeps it for providers that need it).

    Raises:
        OSError: the file cannot be read.
        ValueError: the file holds no private RSA (2048 bits or more), EC or OKP key; the message
            names the file, never its content.
    """
    data = path.read_bytes()
    refused = ValueError(f"{path} does not hold a private RSA, EC or Ed25519 key (JWK or PEM)")
    try:
        key = _import(data)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise refused from error
    if key is None or not key.is_private:
        raise refused
    if isinstance(key, RSAKey) and key.public_key.key_size < _MIN_RSA_BITS:
        raise ValueError(f"{path}: an RSA client key needs at least {_MIN_RSA_BITS} bits")
    algorithm = _algorithm(key)
    if algorithm not in SIGNING_ALGORITHMS:
        raise ValueError(f"{path}: 'alg' must be one of {sorted(SIGNING_ALGORITHMS)}")
    try:  # a key that cannot sign with its algorithm fails here, not at every request
        jwt.encode({"alg": algorithm}, {"probe": True}, key, algorithms=[algorithm])
    except (JoseError, ValueError, TypeError) as error:
        raise ValueError(f"{path}: the key cannot sign with {algorithm}") from error
    return key, algorithm


def _import(data: bytes) -> Key | None:
    if data.lstrip().startswith(b"{"):
        document = json.loads(data)
        if not isinstance(document, dict):
            return None
        key_type = document.get("kty")
        return JWKRegistry.import_key(document) if key_type in _KEY_TYPES else None
    for key_type in _KEY_TYPES:
        try:
            return JWKRegistry.import_key(data, key_type)
        except (JoseError, ValueError, TypeError):
            continue
    return None


def _algorithm(key: Key) -> str:
    named = key.get("alg")
    if isinstance(named, str) and named:
        return named
    if isinstance(key, RSAKey):
        return "RS256"
    if isinstance(key, ECKey) and key.curve_name in _ALGORITHM_OF_CURVE:
        return _ALGORITHM_OF_CURVE[key.curve_name]
    if isinstance(key, OKPKey) and key.curve_name in ("Ed25519", "Ed448"):
        return key.curve_name
    raise ValueError("a client key must be RSA, EC on P-256/384/521, or Ed25519/Ed448")
