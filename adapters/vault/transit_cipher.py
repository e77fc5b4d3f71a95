"""TOTP secrets encrypted by Vault's transit engine with a derived key bound to each owner (S4)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from adapters.vault.client import VaultClient
from adapters.vault.errors import UnexpectedAnswer, refusal, unexpected
from adapters.vault.names import DEFAULT_KEY, DEFAULT_MOUNT, check_names
from application.errors import ApplicationError, SecretUnreadable
from application.ports.secret_cipher import SecretOwner
from domain.errors import InvalidSecret
from domain.secret import TotpSecret

R = TypeVar("R")

DEFAULT_BATCH_SIZE: Final = 100

_CIPHERTEXT: Final = re.compile(r"vault:v([1-9][0-9]{0,8}):[A-Za-z0-9+/=]+")

Item = Mapping[str, str]
"""One entry of a transit ``batch_input``: plaintext or ciphertext, and the owner's context."""


class VaultTransitCipher:
    """Implements SecretCipher with one dedicated transit key (aes256-gcm96, derived, not exportable).

    Every request carries ``context = base64(owner.binding())``, so Vault derives a key per owner and
    a ciphertext copied to another user's or enrollment's row fails to decrypt. Ciphertexts are stored
    exactly as Vault returns them (``vault:vN:...``); N is the key version. The secret crosses the wire
    as base64 of its raw key bytes; nothing here caches or logs it.

    Every request uses transit's ``batch_input`` (a single operation is a batch of one) and reads each
    item's own result, whether Vault answers 200 or 400. ``rewrap`` sends ``batch_size`` items per
    request.

    The key must exist and be derived: :func:`adapters.vault.setup.ensure_transit_key` makes sure of
    it, and :func:`adapters.vault.binding_check.verify_owner_binding` proves it with the service's
    own token. Every method answers within the client's deadline.
    """

    def __init__(
        self,
        client: VaultClient,
        *,
        key: str = DEFAULT_KEY,
        mount: str = DEFAULT_MOUNT,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        check_names(mount, key)
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._client = client
        self._key = key
        self._mount = mount
        self._batch_size = batch_size

    async def encrypt(self, secret: TotpSecret, owner: SecretOwner) -> str:
        """A ``vault:vN:`` ciphertext of ``secret`` bound to ``owner``, under the newest key version.

        Raises:
            DependencyUnavailable: Vault is down, sealed, too slow, refused the token, or lacks the key.
        """
        item = {"plaintext": _b64(secret.key), "context": _context(owner)}
        return _one(await self._batch("encrypt", [item], _ciphertext_of))

    async def decrypt(self, ciphertext: str, owner: SecretOwner) -> TotpSecret:
        """The secret inside ``ciphertext``.

        Raises:
            SecretUnreadable: not a transit ciphertext, altered, made for another owner, or made with
                a key version that was retired.
            DependencyUnavailable: Vault is down, sealed, too slow, refused the token, or lacks the key.
        """
        self.key_version(ciphertext)
        item = {"ciphertext": ciphertext, "context": _context(owner)}
        return _one(await self._batch("decrypt", [item], _secret_of))

    async def rewrap(self, sealed: Sequence[tuple[str, SecretOwner]]) -> list[str]:
        """Each ciphertext re-encrypted under the newest key version, in the same order.

        Sends one batch request per ``batch_size`` items; the plaintexts never leave Vault. Either
        every ciphertext is returned rewrapped or an error is raised (earlier batches' results are then
        dropped; the old ciphertexts stay valid).

        Raises:
            SecretUnreadable: a ciphertext is malformed, altered, made for another owner, or under a
                retired version; the message gives the positions, never the ciphertexts.
            DependencyUnavailable: Vault is down, sealed, too slow, refused the token, or lacks the key.
        """
        for position, (ciphertext, _) in enumerate(sealed):
            if not _CIPHERTEXT.fullmatch(ciphertext):
                raise SecretUnreadable(f"the item at position {position} is no transit ciphertext")
        items = [
            {"ciphertext": ciphertext, "context": _context(owner)} for ciphertext, owner in sealed
        ]
        outcomes: list[str | ApplicationError] = []
        for start in range(0, len(items), self._batch_size):
            outcomes += await self._batch(
                "rewrap", items[start : start + self._batch_size], _ciphertext_of
            )
        rewrapped = [outcome for outcome in outcomes if isinstance(outcome, str)]
        if len(rewrapped) == len(outcomes):
            return rewrapped
        for outcome in outcomes:
            if isinstance(outcome, ApplicationError) and not isinstance(outcome, SecretUnreadable):
                raise outcome
        refused = ", ".join(
            str(n) for n, outcome in enumerate(outcomes) if not isinstance(outcome, str)
        )
        raise SecretUnreadable(f"Vault refused the ciphertexts at positions {refused}")

    async def newest_key_version(self) -> int:
        """The key's ``latest_version``: what new and rewrapped ciphertexts are made with.

        Needs ``read`` on ``MOUNT/keys/KEY`` (the rotation job's policy, not the service's).

        Raises:
            DependencyUnavailable: Vault is down, sealed, too slow, refused the token, or lacks the key.
        """

        answer = await self._client.request("read key", "GET", f"{self._mount}/keys/{self._key}")
        try:
            version = _data(answer).get("latest_version")
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise UnexpectedAnswer("no valid latest_version")
        except UnexpectedAnswer as error:
            raise unexpected("read key", error) from None
        return version

    def key_version(self, ciphertext: str) -> int:
        """The key version in the ``vault:vN:`` prefix of ``ciphertext``.

        Raises:
            SecretUnreadable: the text is not a transit ciphertext.
        """
        match = _CIPHERTEXT.fullmatch(ciphertext)
        if match is None:
            raise SecretUnreadable("not a transit ciphertext")
        return int(match.group(1))

    async def _batch(
        self,
        operation: str,
        items: Sequence[Item],
        parse: Callable[[Mapping[str, Any]], R],
    ) -> list[R | ApplicationError]:
        """One outcome per item, in order: ``parse`` of its result, or the error Vault gave it.

        Raises:
            DependencyUnavailable: the request as a whole failed or was answered with nonsense.
            SecretUnreadable: a batch of one was refused as a whole because of its ciphertext.
        """
        batch = [{**item, "reference": str(index)} for index, item in enumerate(items)]
        about_ciphertexts = operation != "encrypt"
        # Vault reports a refused ciphertext per item. Should it refuse a whole request because of a
        # ciphertext, only a batch of one can say whose: a larger batch reports an outage instead.
        answer = await self._client.request(
            operation,
            "POST",
            f"{self._mount}/{operation}/{self._key}",
            {"batch_input": batch},
            about_ciphertexts=about_ciphertexts and len(batch) == 1,
        )
        try:
            results = _batch_results(answer, expected=len(batch))
        except UnexpectedAnswer as nonsense:
            raise unexpected(operation, nonsense) from None
        outcomes: list[R | ApplicationError] = []
        for result in results:
            refused = result.get("error")
            if isinstance(refused, str) and refused:
                outcomes.append(
                    refusal([refused], operation=operation, about_ciphertexts=about_ciphertexts)
                )
                continue
            try:
                outcomes.append(parse(result))
            except SecretUnreadable as unreadable:
                outcomes.append(unreadable)
            except UnexpectedAnswer as unexpected_answer:
                raise unexpected(operation, unexpected_answer) from None
        return outcomes


def _one(outcomes: Sequence[R | ApplicationError]) -> R:
    """The result of a batch of one, or its error raised."""
    (outcome,) = outcomes
    if isinstance(outcome, ApplicationError):
        raise outcome
    return outcome


def _batch_results(answer: object, *, expected: int) -> list[Mapping[str, Any]]:
    results = _data(answer).get("batch_results")
    if not isinstance(results, list) or len(results) != expected:
        raise UnexpectedAnswer("no valid batch_results")
    for index, result in enumerate(results):
        if not isinstance(result, Mapping) or result.get("reference") != str(index):
            raise UnexpectedAnswer("batch_results out of order")
    return results


def _data(answer: object) -> Mapping[str, Any]:
    data = answer.get("data") if isinstance(answer, Mapping) else None
    if not isinstance(data, Mapping):
        raise UnexpectedAnswer("no data")
    return data


def _ciphertext_of(result: Mapping[str, Any]) -> str:
    ciphertext = result.get("ciphertext")
    if not isinstance(ciphertext, str) or not _CIPHERTEXT.fullmatch(ciphertext):
        raise UnexpectedAnswer("no valid ciphertext")
    return ciphertext


def _secret_of(result: Mapping[str, Any]) -> TotpSecret:
    plaintext = result.get("plaintext")
    if not isinstance(plaintext, str):
        raise UnexpectedAnswer("no valid plaintext")
    try:
        return TotpSecret.from_bytes(base64.b64decode(plaintext, validate=True))
    except (binascii.Error, InvalidSecret):
        raise SecretUnreadable("the ciphertext does not hold a TOTP secret") from None


def _context(owner: SecretOwner) -> str:
    return _b64(owner.binding())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
