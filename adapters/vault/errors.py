"""Vault's failures translated into application errors: the one place that decides.

A ciphertext Vault refuses (failed authentication, malformed, retired key version) is
SecretUnreadable. Everything else is DependencyUnavailable: sealed, down, slow, unreachable, token
revoked or lacking policy, key or mount missing (a missing key is an outage, never the caller's
fault), and answers this adapter does not understand.

Two kinds of failure arrive here: httpx's exceptions, from the transport (:func:`transport_failure`),
and Vault's error statuses (:func:`status_failure`). Neither is chained or logged as is: an httpx
message may hold the request's URL, and a batch answered with status 400 holds the other items'
plaintexts. Logs name the operation and a fixed reason only.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping, Sequence
from typing import Any, Final

import httpx

from application.errors import ApplicationError, DependencyUnavailable, SecretUnreadable

VAULT: Final = "vault"
"""The dependency name DependencyUnavailable carries for Vault."""

logger = logging.getLogger(__name__)

_UNREADABLE_MARKERS: Final = (
    "message authentication failed",  # altered, or made for another owner (derived key context)
    "invalid ciphertext",  # no prefix, bad base64, bad or too new version
    "disallowed by policy",  # version below min_decryption_version: its key is retired
)

_TRANSPORT_REASONS: Final[tuple[tuple[type[BaseException], str], ...]] = (
    (httpx.PoolTimeout, "no free connection within the timeout"),
    (httpx.ConnectTimeout, "connect timeout"),
    (httpx.TimeoutException, "HTTP timeout"),
    (httpx.ConnectError, "unreachable"),
    (httpx.RemoteProtocolError, "connection closed or answer malformed"),
    (httpx.NetworkError, "network failure"),
    (httpx.HTTPError, "HTTP failure"),
    (OSError, "network failure"),
)

_STATUS_REASONS: Final[Mapping[int, str]] = {
    401: "unauthorized (401)",
    403: "permission denied: token expired or revoked, or policy missing (403)",
    404: "path not found: mount or key missing (404)",
    405: "method not allowed (405)",
    412: "not yet consistent on this node (412)",
    429: "rate limited or standby (429)",
    472: "disaster-recovery secondary (472)",
    473: "performance standby (473)",
    500: "internal error (500)",
    501: "not initialized (501)",
    502: "bad gateway (502)",
    503: "sealed or in maintenance (503)",
}


class UnexpectedAnswer(Exception):
    """Vault answered with success but a body this adapter does not understand.

    The message names the missing or malformed field, never a value.
    """


def transport_failure(error: Exception, *, operation: str) -> DependencyUnavailable:
    """DependencyUnavailable for an exception raised while exchanging ``operation`` with Vault:
    httpx's (unreachable, TLS refused, timeout, connection broken) or the socket's."""
    if isinstance(error, httpx.ConnectError) and _caused_by_tls(error):
        return unavailable(operation, "TLS handshake or certificate verification failed")
    for kind, reason in _TRANSPORT_REASONS:
        if isinstance(error, kind):
            return unavailable(operation, reason)
    return unavailable(operation, "HTTP failure")


def status_failure(
    status: int, body: Mapping[str, Any] | None, *, operation: str, about_ciphertexts: bool
) -> ApplicationError:
    """The application error for Vault's answer ``status`` (not 2xx) with ``body`` to ``operation``.

    ``about_ciphertexts`` says whether the request carried ciphertexts (decrypt, rewrap): only then
    can a refusal (400) mean SecretUnreadable.
    """
    if status == 400:
        errors = body.get("errors") if body is not None else None
        messages = [m for m in errors if isinstance(m, str)] if isinstance(errors, list) else []
        return refusal(messages, operation=operation, about_ciphertexts=about_ciphertexts)
    return unavailable(operation, _STATUS_REASONS.get(status, f"unexpected status {status}"))


def refusal(
    messages: Sequence[str], *, operation: str, about_ciphertexts: bool
) -> ApplicationError:
    """The error for a request, or a batch item, that Vault refused with these error ``messages``.

    SecretUnreadable only if the request carried ciphertexts and every message is about one of them;
    DependencyUnavailable otherwise (key not found, missing context, anything unrecognised).
    """
    if about_ciphertexts and messages and all(_is_about_ciphertext(m) for m in messages):
        return SecretUnreadable("Vault refused the ciphertext")
    if any("not found" in message for message in messages):
        return unavailable(operation, "key or path not found (400)")
    return unavailable(operation, "request refused (400)")


def unexpected(operation: str, error: UnexpectedAnswer) -> DependencyUnavailable:
    """DependencyUnavailable for a success answer this adapter does not understand."""
    return unavailable(operation, f"unexpected answer: {error}")


def unavailable(operation: str, reason: str) -> DependencyUnavailable:
    """DependencyUnavailable for Vault, logged with the operation and ``reason`` (fixed text only)."""
    logger.warning("vault %s failed: %s", operation, reason)
    return DependencyUnavailable(VAULT)


def _is_about_ciphertext(message: str) -> bool:
    return any(marker in message for marker in _UNREADABLE_MARKERS)


def _caused_by_tls(error: BaseException) -> bool:
    seen: BaseException | None = error
    for _ in range(10):  # httpx wraps httpcore's exception, which wraps the ssl module's
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
