"""Keys, token builders, a key source and a tiny JWKS HTTP server for the JWT adapter tests."""

import asyncio
import base64
import json
from collections.abc import Mapping
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt
from joserfc.jwk import Key, KeySet, RSAKey

from adapters.jwt.jwks_source import parse_jwks
from adapters.jwt.verifier import JwtTokenVerifier

NOW: Final = 1_800_000_000
ISSUER: Final = "https://idp.example.test/realms/bank"
AUDIENCE: Final = "mfa-service"
SUBJECT: Final = "user-42"


class Clock:
    """A settable epoch-seconds clock for the verifier's ``now``."""

    def __init__(self, value: float = NOW) -> None:
        self.value = value

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


def claims(*, omit: tuple[str, ...] = (), **overrides: Any) -> dict[str, Any]:
    """Claims a default verifier accepts at ``NOW``, with some replaced or left out."""
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": SUBJECT,
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 300,
        **overrides,
    }
    return {name: value for name, value in base.items() if name not in omit}


def sign(
    key: Key, alg: str, payload: Mapping[str, Any], *, with_kid: bool = True, **header: Any
) -> str:
    """A token signed with joserfc; its ``kid`` is the key's unless given or ``with_kid`` is False."""
    protected = {"alg": alg, **({"kid": key.kid} if with_kid else {}), **header}
    return jwt.encode(protected, dict(payload), key, algorithms=[alg])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64_json(value: object) -> str:
    return b64(json.dumps(value).encode())


def forge(header: object, payload: object, signature: bytes = b"not-a-signature") -> str:
    """A compact token with any header and payload and an arbitrary signature."""
    return f"{b64_json(header)}.{b64_json(payload)}.{b64(signature)}"


def sign_rs256_raw(key: RSAKey, header: object, payload: object) -> str:
    """An RS256 token with a valid signature over any header, bypassing joserfc's header checks."""
    signing_input = f"{b64_json(header)}.{b64_json(payload)}"
    private_key = key.private_key
    assert private_key is not None
    signature = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


def public_jwks(*keys: Key) -> dict[str, Any]:
    return dict(KeySet(list(keys)).as_dict(private=False))


class MemorySource:
    """A key source holding a JWKS document in memory, parsed like a real one; counts fetches."""

    def __init__(self, *keys: Key) -> None:
        self.keys = keys
        self.document: dict[str, Any] = public_jwks(*keys)
        self.fetches = 0

    async def fetch(self) -> KeySet:
        self.fetches += 1
        return parse_jwks(json.dumps(self.document).encode())


def make_verifier(source: Any, **options: Any) -> JwtTokenVerifier:
    settings: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "now": Clock(),
        **options,
    }
    return JwtTokenVerifier(source=source, **settings)


class JwksServer:
    """A minimal HTTP/1.1 server on 127.0.0.1 that answers every request with one canned response.

    ``requests`` counts the requests it received; set ``status``, ``body``, ``extra_headers`` or
    ``hang`` (accept, read the request, never answer) to change what it does.
    """

    def __init__(self) -> None:
        self.requests = 0
        self.status = 200
        self.body = b'{"keys": []}'
        self.extra_headers: dict[str, str] = {}
        self.hang = False
        self._server: asyncio.Server | None = None
        self._closing = asyncio.Event()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/jwks"

    def serve_keys(self, *keys: Key) -> None:
        self.body = json.dumps(public_jwks(*keys)).encode()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            if self.hang:
                await self._closing.wait()
                return
            headers = {
                "Content-Type": "application/json",
                "Content-Length": str(len(self.body)),
                "Connection": "close",
                **self.extra_headers,
            }
            head = f"HTTP/1.1 {self.status} Canned\r\n" + "".join(
                f"{name}: {value}\r\n" for name, value in headers.items()
            )
            writer.write(head.encode() + b"\r\n" + self.body)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
