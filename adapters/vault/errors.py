"""Vault's failures translated into application errors: the one place that decides.

A ciphertext Vault refuses (failed authentication, malformed, retired key version) is
SecretUnreadable. Everything else is DependencyUnavailable: sealed, down, slow, unreachable, token
revoked or lacking policy, key or mount missing (a missing key is an outage, never the caller's
fault), and answers this adapter does not understand.

hvac's exceptions are never chained or logged: for a batch answered with status 400 their message
is the whole response body, which holds the other items' plaintexts. Logs name the operation and a
fixed reason only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

import requests
from hvac import exceptions as hvac_errors

from application.errors import ApplicationError, DependencyUnavailable, SecretUnreadable

VAULT: Final = "vault"
"""The dependency name DependencyUnavailable carries for Vault."""

logger = logging.getLogger(__name__)

_UNREADABLE_MARKERS: Final = (
    "message authentication failed",  # altered, or made for another owner (derived key context)
    "invalid ciphertext",  # no prefix, bad base64, bad or too new version
    "disallowed by policy",  # version below min_decryption_version: its key is retired
)

_REASONS: Final[tuple[tuple[type[BaseException], str], ...]] = (
    (hvac_errors.VaultDown, "sealed or in maintenance (503)"),
    (hvac_errors.Forbidden, "permission denied: token expired or revoked, or policy missing (403)"),
    (hvac_errors.Unauthorized, "unauthorized (401)"),
    (hvac_errors.InvalidPath, "path not found: mount or key missing (404)"),
    (hvac_errors.RateLimitExceeded, "rate limited (429)"),
    (hvac_errors.InternalServerError, "internal error (500)"),
    (hvac_errors.BadGateway, "bad gateway (502)"),
    (hvac_errors.VaultNotInitialized, "not initialized (501)"),
    (hvac_errors.VaultError, "unexpected status"),
    (requests.Timeout, "HTTP timeout"),
    (requests.exceptions.SSLError, "TLS handshake or certificate verification failed"),
    (requests.ConnectionError, "unreachable"),
    (requests.RequestException, "HTTP failure"),
    (TimeoutError, "no answer within the deadline"),
    (OSError, "network failure"),
)


class UnexpectedAnswer(Exception):
    """Vault answered with success but a body this adapter does not understand.

    The message names the missing or malformed field, never a value.
    """


def translate(
    error: BaseException, *, operation: str, about_ciphertexts: bool
) -> ApplicationError | None:
    """The application error for ``error`` raised while running ``operation`` against Vault.

    ``about_ciphertexts`` says whether the request carried ciphertexts (decrypt, rewrap): only then
    can a refusal mean SecretUnreadable. Returns None for an exception that is not about Vault (a
    programming error), which the caller lets propagate.
    """
    if isinstance(error, hvac_errors.InvalidRequest):
        messages = [m for m in (error.errors or ()) if isinstance(m, str)]
        return refusal(messages, operation=operation, about_ciphertexts=about_ciphertexts)
    if isinstance(error, UnexpectedAnswer):
        return unavailable(operation, f"unexpected answer: {error}")
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return unavailable(operation, reason)
    return None


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


def unavailable(operation: str, reason: str) -> DependencyUnavailable:
    """DependencyUnavailable for Vault, logged with the operation and ``reason`` (fixed text only)."""
    logger.warning("vault %s failed: %s", operation, reason)
    return DependencyUnavailable(VAULT)


def _is_about_ciphertext(message: str) -> bool:
    return any(marker in message for marker in _UNREADABLE_MARKERS)
