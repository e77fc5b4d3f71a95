"""The identity provider's token introspection endpoint (RFC 7662), reached with authlib's OAuth 2
client, authenticated as this service: ``client_secret_basic``, ``client_secret_post`` (RFC 6749
§2.3.1) or ``private_key_jwt`` (RFC 7523 §2.2, OpenID Connect Core §9).

The one translation seam of this technology: every transport failure, unexpected status and
unreadable answer becomes ``IntrospectionUnavailable``, whose message names the cause and never the
token or the answer's content.
"""

import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from joserfc.jwk import Key

MAX_ANSWER_BYTES: Final = 64 * 1024
"""The largest introspection answer read; a larger one is refused as malformed."""

ASSERTION_LIFETIME_SECONDS: Final = 60
"""How long a client assertion is valid (authlib's default is an hour)."""


class IntrospectionUnavailable(Exception):
    """The endpoint could not be asked, refused this service, or answered something unreadable.

    ``malformed`` is true when an answer came but is not an RFC 7662 answer (a bug or a
    misconfiguration at the identity provider, worth an error log), false when the endpoint is down,
    slow or refusing connections.
    """

    def __init__(self, cause: str, *, malformed: bool = False) -> None:
        super().__init__(cause)
        self.malformed = malformed


@dataclass(frozen=True, slots=True)
class ClientSecret:
    """A client secret sent in the Authorization header (basic) or the form body (post)."""

    client_id: str
    secret: str = field(repr=False)
    method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"


@dataclass(frozen=True, slots=True)
class ClientPrivateKey:
    """A private key that signs a short-lived client assertion for every request."""

    client_id: str
    key: Key = field(repr=False)
    algorithm: str = "RS256"


ClientCredentials = ClientSecret | ClientPrivateKey


class _ShortLivedPrivateKeyJWT(PrivateKeyJWT):  # type: ignore[misc]
    """authlib's ``private_key_jwt`` with assertions valid for a minute, not an hour, each with a
    fresh ``jti`` and the endpoint's URL as ``aud``."""

    def sign(self, auth: Any, token_endpoint: str) -> str:
        assertion: str = private_key_jwt_sign(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            alg=self.alg,
            expires_in=ASSERTION_LIFETIME_SECONDS,
        )
        return assertion


class IntrospectionClient:
    """Asks one introspection endpoint about one token at a time; implements ``Introspector``.

    One connection pool for the process (closed by ``aclose``); every exchange is bounded by
    ``timeout_seconds`` (connect, write, read and waiting for a pooled connection alike).
    Redirects are not followed and proxy variables of the environment are ignored.
    """

    def __init__(
        self,
        url: str,
        credentials: ClientCredentials,
        *,
        timeout_seconds: float,
        ca_cert: Path | None = None,
    ) -> None:
        self._url = url
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=str(ca_cert)) if ca_cert is not None else True
        )
        options: dict[str, Any] = {
            "timeout": httpx2.Timeout(timeout_seconds),
            "follow_redirects": False,
            "trust_env": False,
            "verify": verify,
        }
        if isinstance(credentials, ClientSecret):
            self._client = AsyncOAuth2Client(
                client_id=credentials.client_id,
                client_secret=credentials.secret,
                token_endpoint_auth_method=credentials.method,
                **options,
            )
        else:
            self._client = AsyncOAuth2Client(
                client_id=credentials.client_id,
                client_secret=credentials.key,
                token_endpoint_auth_method="private_key_jwt",  # noqa: S106 - a method's name
                **options,
            )
            self._client.register_client_auth_method(
                _ShortLivedPrivateKeyJWT(alg=credentials.algorithm)
            )

    async def introspect(self, token: str) -> dict[str, Any]:
        """The endpoint's answer about ``token``: a JSON object whose ``active`` is a boolean.

        Raises:
            IntrospectionUnavailable: no answer within the timeout, a connection failure, a status
                other than 200 (a 401 means the identity provider refused this service's client
                credentials), or an answer that is too large, not a JSON object, or whose
                ``active`` member is missing or not a boolean (``malformed``).
        """
        try:
            response = await self._client.introspect_token(
                self._url,
                token=token,
                token_type_hint="access_token",  # noqa: S106 - a hint, not a secret
                headers={"Accept": "application/json"},
            )
        except httpx2.TimeoutException as error:
            raise IntrospectionUnavailable(f"timed out ({type(error).__name__})") from error
        except httpx2.HTTPError as error:
            raise IntrospectionUnavailable(f"unreachable ({type(error).__name__})") from error
        return _answer_of(response)

    async def aclose(self) -> None:
        await self._client.aclose()


def _answer_of(response: httpx2.Response) -> dict[str, Any]:
    if response.status_code in (401, 403):
        raise IntrospectionUnavailable(
            f"the identity provider refused this service's client credentials "
            f"(HTTP {response.status_code})",
            malformed=True,
        )
    if response.status_code != 200:
        raise IntrospectionUnavailable(
            f"HTTP {response.status_code}", malformed=response.status_code < 500
        )
    if len(response.content) > MAX_ANSWER_BYTES:
        raise IntrospectionUnavailable("the answer is larger than 64 KiB", malformed=True)
    try:
        answer = json.loads(response.content)
    except (ValueError, RecursionError) as error:
        raise IntrospectionUnavailable("the answer is not JSON", malformed=True) from error
    if not isinstance(answer, dict):
        raise IntrospectionUnavailable("the answer is not a JSON object", malformed=True)
    if not isinstance(answer.get("active"), bool):
        raise IntrospectionUnavailable(
            "the answer's 'active' is missing or not a boolean", malformed=True
        )
    return answer
