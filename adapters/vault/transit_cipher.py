"""TOTP secrets encrypted by Vault's transit engine with a derived key bound to each owner (S4)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

import hvac
from hvac.exceptions import InvalidRequest

from adapters.vault.coalescer import Coalescer
from adapters.vault.errors import UnexpectedAnswer, refusal
from adapters.vault.gateway import VaultGateway
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
    request. With ``coalesce_window`` (seconds, e.g. 0.002) concurrent encrypts, and concurrent
    decrypts, arriving within that window share one request of up to ``batch_size`` items; each caller
    still gets only its own result or error.

    The key must exist and be derived: :func:`adapters.vault.setup.ensure_transit_key` makes sure of
    it, and :func:`adapters.vault.binding_check.verify_owner_binding` proves it with the service's
    own token. Every method answers within the gateway's deadline (plus ``coalesce_window``).
    """

    def __init__(
        self,
        gateway: VaultGateway,
        *,
        key: str = DEFAULT_KEY,
        mount: str = DEFAULT_MOUNT,
        batch_size: int = DEFAULT_BATCH_SIZE,
        coalesce_window: float | None = None,
    ) -> None:
        check_names(mount, key)
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._gateway = gateway
        self._key = key
        self._mount = mount
        self._batch_size = batch_size
        self._encrypt: Callable[[Item], Awaitable[str]] = _one_by_one(self._encrypt_batch)
        self._decrypt: Callable[[Item], Awaitable[TotpSecret]] = _one_by_one(self._decrypt_batch)
        if coalesce_window is not None:
            window, most = coalesce_window, batch_size
            self._encrypt = Coalescer(self._encrypt_batch, window=window, max_batch=most).submit
            self._decrypt = Coalescer(self._decrypt_batch, window=window, max_batch=most).submit

    async def encrypt(self, secret: TotpSecret, owner: SecretOwner) -> str:
        """A ``vault:vN:`` ciphertext of ``secret`` bound to ``owner``, under the newest key version.

        Raises:
            DependencyUnavailable: Vault is down, sealed, too slow, refused the token, or lacks the key.
        """
        return await self._encrypt({"plaintext": _b64(secret.key), "context": _context(owner)})

    async def decrypt(self, ciphertext: str, owner: SecretOwner) -> TotpSecret:
        """The secret inside ``ciphertext``.

        Raises:
            SecretUnreadable: not a transit ciphertext, altered, made for another owner, or made with
                a key version that was retired.
            DependencyUnavailable: Vault is down, sealed, too slow, refused the token, or lacks the key.
        """
        self.key_version(ciphertext)
        return await self._decrypt({"ciphertext": ciphertext, "context": _context(owner)})

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
            outcomes += await self._rewrap_batch(items[start : start + self._batch_size])
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

        def request(client: hvac.Client) -> int:
            answer = client.secrets.transit.read_key(self._key, mount_point=self._mount)
            version = _data(answer).get("latest_version")
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise UnexpectedAnswer("no valid latest_version")
            return version

        return await self._gateway.call("read key", request)

    def key_version(self, ciphertext: str) -> int:
        """The key version in the ``vault:vN:`` prefix of ``ciphertext``.

        Raises:
            SecretUnreadable: the text is not a transit ciphertext.
        """
        match = _CIPHERTEXT.fullmatch(ciphertext)
        if match is None:
            raise SecretUnreadable("not a transit ciphertext")
        return int(match.group(1))

    async def _encrypt_batch(self, items: Sequence[Item]) -> list[str | ApplicationError]:
        def send(client: hvac.Client, batch: list[dict[str, str]]) -> object:
            return client.secrets.transit.encrypt_data(
                self._key, batch_input=batch, mount_point=self._mount
            )

        return await self._batch("encrypt", send, items, _ciphertext_of)

    async def _decrypt_batch(self, items: Sequence[Item]) -> list[TotpSecret | ApplicationError]:
        def send(client: hvac.Client, batch: list[dict[str, str]]) -> object:
            return client.secrets.transit.decrypt_data(
                self._key, batch_input=batch, mount_point=self._mount
            )

        return await self._batch("decrypt", send, items, _secret_of)

    async def _rewrap_batch(self, items: Sequence[Item]) -> list[str | ApplicationError]:
        def send(client: hvac.Client, batch: list[dict[str, str]]) -> object:
            return client.secrets.transit.rewrap_data(
                self._key, ciphertext=None, batch_input=batch, mount_point=self._mount
            )

        return await self._batch("rewrap", send, items, _ciphertext_of)

    async def _batch(
        self,
        operation: str,
        send: Callable[[hvac.Client, list[dict[str, str]]], object],
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
        # ciphertext, only a batch of one can say whose: a coalesced batch reports an outage instead.
        whole_request_about_ciphertext = about_ciphertexts and len(batch) == 1

        def request(client: hvac.Client) -> list[R | ApplicationError]:
            answer = _with_item_errors(lambda: send(client, batch))
            outcomes: list[R | ApplicationError] = []
            for result in _batch_results(answer, expected=len(batch)):
                error = result.get("error")
                if isinstance(error, str) and error:
                    outcomes.append(
                        refusal([error], operation=operation, about_ciphertexts=about_ciphertexts)
                    )
                    continue
                try:
                    outcomes.append(parse(result))
                except SecretUnreadable as unreadable:
                    outcomes.append(unreadable)
            return outcomes

        return await self._gateway.call(
            operation, request, about_ciphertexts=whole_request_about_ciphertext
        )


def _one_by_one(
    send: Callable[[Sequence[Item]], Awaitable[Sequence[R | ApplicationError]]],
) -> Callable[[Item], Awaitable[R]]:
    """Sends each item as a batch of one and raises its error, if any."""

    async def single(item: Item) -> R:
        (outcome,) = await send([item])
        if isinstance(outcome, ApplicationError):
            raise outcome
        return outcome

    return single


def _with_item_errors(call: Callable[[], object]) -> object:
    """The answer of a batch request, also when Vault reports per-item errors with status 400.

    Depending on the endpoint and the version, Vault answers a batch with failed items 200 or 400;
    both carry ``data.batch_results``. A 400 without batch results is a plain refusal and re-raised.
    """
    try:
        return call()
    except InvalidRequest as error:
        body = error.json
        data = body.get("data") if isinstance(body, Mapping) else None
        if isinstance(data, Mapping) and isinstance(data.get("batch_results"), list):
            return body
        raise


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
