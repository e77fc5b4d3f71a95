"""Where the identity provider's public signing keys come from: a JWKS file or a JWKS URL.

Only the configured location is ever read. Keys named by a token (``jku``, ``x5u``, ``jwk``) are
never fetched or used: the sources below do not know tokens exist.
"""

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, Final, Protocol

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key, KeySet, OKPKey, RSAKey

logger = logging.getLogger(__name__)

MAX_JWKS_BYTES: Final = 1024 * 1024
"""The largest key set document read (1 MiB); a larger one is refused, not truncated."""

MIN_RSA_KEY_BITS: Final = 2048
_SIGNING_KEY_TYPES: Final = frozenset({"RSA", "EC", "OKP"})
_SIGNING_OKP_CURVES: Final = frozenset({"Ed25519", "Ed448"})


class JwksUnavailable(Exception):
    """The key set could not be obtained or holds no usable key.

    The message names the cause (timeout, status, parse failure) and never the document's content.
    """


class JwksSource(Protocol):
    """A place the verifier reads the identity provider's public signing keys from."""

    async def fetch(self) -> KeySet:
        """The current public signing keys.

        Raises:
            JwksUnavailable: the keys cannot be read, are malformed, or none is usable.
        """
        ...


class JwksFileSource:
    """Reads a JWKS document from a local file (development, or keys shipped with a deployment)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    async def fetch(self) -> KeySet:
        """The public signing keys in the file, re-read on every call.

        Raises:
            JwksUnavailable: the file is missing, unreadable, larger than 1 MiB, malformed, or holds
                no usable key.
        """
        document = await asyncio.to_thread(self._read)
        return parse_jwks(document)

    def _read(self) -> bytes:
        try:
            with self._path.open("rb") as file:
                document = file.read(MAX_JWKS_BYTES + 1)
        except OSError as error:
            raise JwksUnavailable(f"JWKS file unreadable: {type(error).__name__}") from error
        if len(document) > MAX_JWKS_BYTES:
            raise JwksUnavailable("JWKS file too large")
        return document


class JwksUrlSource:
    """Downloads a JWKS document from the identity provider with one bounded GET.

    Redirects are not followed, only status 200 is accepted, the whole exchange (connect, headers
    and body) must finish within ``timeout_seconds``, and a body over 1 MiB is refused.
    """

    def __init__(
        self, url: str, http_client: httpx.AsyncClient, timeout_seconds: float = 2.0
    ) -> None:
        """Raises ValueError for a URL that is not absolute http(s) or a non-positive timeout."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise ValueError("the JWKS URL is malformed") from error
        if parsed.scheme not in ("https", "http") or not parsed.host:
            raise ValueError("the JWKS URL must be an absolute http(s) URL")
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self._url = url
        self._client = http_client
        self._timeout_seconds = timeout_seconds

    async def fetch(self) -> KeySet:
        """The public signing keys the URL serves now.

        Raises:
            JwksUnavailable: connection refused or failed, timeout, a status other than 200, a body
                over 1 MiB, malformed JSON, or no usable key.
        """
        try:
            async with asyncio.timeout(self._timeout_seconds):
                document = await self._download()
        except TimeoutError as error:
            raise JwksUnavailable("JWKS request timed out") from error
        except httpx.HTTPError as error:
            raise JwksUnavailable(f"JWKS request failed: {type(error).__name__}") from error
        return parse_jwks(document)

    async def _download(self) -> bytes:
        async with self._client.stream(
            "GET",
            self._url,
            headers={"Accept": "application/jwk-set+json, application/json"},
            timeout=self._timeout_seconds,
            follow_redirects=False,
        ) as response:
            if response.status_code != httpx.codes.OK:
                raise JwksUnavailable(f"JWKS request answered HTTP {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_JWKS_BYTES:
                raise JwksUnavailable("JWKS response too large")
            body = bytearray()
            # Counted after decompression, so a compressed bomb is cut off too.
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise JwksUnavailable("JWKS response too large")
            return bytes(body)


def parse_jwks(document: bytes) -> KeySet:
    """The usable public signing keys of a JWKS document (RFC 7517 §5).

    Entries that are not asymmetric signature keys (``oct``, ``use`` other than ``sig``, X25519,
    X448), that carry private key material, that are RSA keys under 2048 bits, or that fail to
    import are skipped. A key without ``kid`` is given its RFC 7638 thumbprint as ``kid``.

    Raises:
        JwksUnavailable: the document is not a JSON object with a ``keys`` array, or no key in it
            is usable.
    """
    try:
        parsed: Any = json.loads(document)
    except (ValueError, RecursionError) as error:
        raise JwksUnavailable("JWKS is not valid JSON") from error
    if not isinstance(parsed, dict) or not isinstance(parsed.get("keys"), list):
        raise JwksUnavailable("JWKS has no 'keys' array")

    keys = [key for entry in parsed["keys"] if (key := _signing_key(entry)) is not None]
    skipped = len(parsed["keys"]) - len(keys)
    if skipped:
        logger.info("JWKS: skipped %d entries that are not usable public signing keys", skipped)
    if not keys:
        raise JwksUnavailable("JWKS holds no usable signing key")
    return KeySet(keys)


def _signing_key(entry: object) -> Key | None:
    if not isinstance(entry, dict):
        return None
    kty = entry.get("kty")
    if (
        not isinstance(kty, str)
        or kty not in _SIGNING_KEY_TYPES
        or entry.get("use", "sig") != "sig"
    ):
        return None
    try:
        key = JWKRegistry.import_key(entry)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        logger.info("JWKS: skipped an entry that does not import: %s", type(error).__name__)
        return None
    if key.is_private:
        logger.warning("JWKS: skipped an entry that carries private key material")
        return None
    if isinstance(key, RSAKey) and key.public_key.key_size < MIN_RSA_KEY_BITS:
        return None
    if isinstance(key, OKPKey) and key.curve_name not in _SIGNING_OKP_CURVES:
        return None
    return key
