"""The service's Vault token: obtained, renewed before it expires, replaced when refused.

Requests only read the current token; a background task (one per client, started with the first
token) keeps it fresh: it looks a token up once to learn its TTL, renews it (``renew-self``) when
two thirds of its TTL have passed, logs in again when it can no longer be renewed, and checks a
token file every second for a new token (a Vault agent writes one when it re-authenticates).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from adapters.vault.errors import UnexpectedAnswer, status_failure, unavailable, unexpected
from adapters.vault.settings import (
    AppRoleAuth,
    Credentials,
    KubernetesAuth,
    TokenAuth,
    TokenFileAuth,
)
from adapters.vault.transport import VaultTransport
from application.errors import ApplicationError

logger = logging.getLogger(__name__)

RENEW_AFTER: Final = 2 / 3
"""The share of a token's TTL after which it is renewed."""
FILE_CHECK_SECONDS: Final = 1.0
RETRY_SECONDS: Final = 5.0
"""How long after a failed renewal or look-up the next attempt is made (never past expiry)."""


@dataclass(slots=True)
class _Lease:
    token: str
    ttl: float | None = None
    """Seconds the token lived for when issued or last renewed; None: unknown or no expiry."""
    renewable: bool = False
    expires_at: float | None = None
    looked_up: bool = False
    care_at: float | None = 0.0
    """When the background task next looks the token up or renews it; None: never."""


class TokenKeeper:
    """Holds the token for ``auth``; see the module's docstring. ``deadline`` bounds each of its
    own exchanges with Vault. Use from one event loop; :meth:`aclose` stops the background task."""

    def __init__(
        self,
        auth: Credentials,
        transport: VaultTransport,
        *,
        deadline: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._auth = auth
        self._transport = transport
        self._deadline = deadline
        self._clock = clock
        self._lease: _Lease | None = None
        self._file_stamp: tuple[int, ...] | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def token(self) -> str:
        """The token to send: the current one, or a new one if there is none or it expired.

        Raises:
            DependencyUnavailable: no token could be obtained (login refused, file unreadable, ...).
        """
        lease = self._lease
        if lease is None or (lease.expires_at is not None and self._clock() >= lease.expires_at):
            async with self._lock:
                if self._lease is lease:
                    await self._obtain()
            lease = self._lease
            assert lease is not None
        if self._task is None and self._needs_care():
            self._task = asyncio.get_running_loop().create_task(self._care_forever())
        return lease.token

    async def replace(self, refused: str) -> bool:
        """After Vault refused the token ``refused``: whether another token is now current (read
        from the file again, or from a new login; one login however many callers were refused).

        Raises:
            DependencyUnavailable: the new login failed, or the file cannot be read.
        """
        async with self._lock:
            if self._lease is not None and self._lease.token != refused:
                return True
            if isinstance(self._auth, TokenAuth):
                return False
            await self._obtain()
            return self._lease is not None and self._lease.token != refused

    async def aclose(self) -> None:
        """Stops the background task."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _needs_care(self) -> bool:
        if isinstance(self._auth, TokenFileAuth):
            return True
        return self._lease is not None and self._lease.care_at is not None

    async def _care_forever(self) -> None:
        while self._needs_care():
            await asyncio.sleep(self._next_care_in())
            async with self._lock:
                try:
                    async with asyncio.timeout(self._deadline):
                        await self._care()
                except (ApplicationError, TimeoutError):
                    self._retry_later()  # logged where it was translated
                except Exception:
                    logger.exception("keeping the vault token fresh failed unexpectedly")
                    self._retry_later()
        self._task = None

    def _next_care_in(self) -> float:
        lease = self._lease
        waits = [FILE_CHECK_SECONDS] if isinstance(self._auth, TokenFileAuth) else []
        if lease is not None and lease.care_at is not None:
            waits.append(lease.care_at - self._clock())
        return max(0.0, min(waits, default=FILE_CHECK_SECONDS))

    async def _care(self) -> None:
        if isinstance(self._auth, TokenFileAuth) and self._file_changed(self._auth.path):
            await self._obtain()
            return
        lease = self._lease
        if lease is None or lease.care_at is None or self._clock() < lease.care_at:
            return
        if not lease.looked_up:
            await self._look_up(lease)
        else:
            await self._renew(lease)

    def _retry_later(self) -> None:
        lease, now = self._lease, self._clock()
        if lease is None:
            return
        if lease.expires_at is None:
            lease.care_at = now + RETRY_SECONDS
        elif now < lease.expires_at:
            lease.care_at = now + min(RETRY_SECONDS, max(0.5, (lease.expires_at - now) / 2))
        elif isinstance(self._auth, AppRoleAuth | KubernetesAuth):
            lease.care_at = now + RETRY_SECONDS  # expired: the next care logs in again
        else:
            lease.care_at = None  # expired for good; a request or the file brings the next one

    async def _obtain(self) -> None:
        auth = self._auth
        if isinstance(auth, TokenAuth):
            self._lease = _Lease(auth.token)
        elif isinstance(auth, TokenFileAuth):
            token = self._read_token_file(auth.path)
            lease = self._lease
            if lease is None or lease.token != token:
                self._lease = _Lease(token)
            elif lease.expires_at is not None and self._clock() >= lease.expires_at:
                lease.expires_at = None  # the same token past its expiry: Vault will say
        elif isinstance(auth, AppRoleAuth):
            body = {"role_id": auth.role_id, "secret_id": auth.secret_id}
            self._lease = await self._login(auth.mount_point, body)
        else:
            body = {"role": auth.role, "jwt": _read_file(auth.token_file, "service-account token")}
            self._lease = await self._login(auth.mount_point, body)

    async def _login(self, mount: str, credentials: Mapping[str, str]) -> _Lease:
        answer = await self._transport.send(
            "login", "POST", f"auth/{mount}/login", body=credentials
        )
        if answer.status != 200:
            raise status_failure(
                answer.status, answer.body, operation="login", about_ciphertexts=False
            ) from None
        lease = _Lease("", looked_up=True, care_at=None)
        self._granted(lease, answer.body, operation="login")
        return lease

    async def _look_up(self, lease: _Lease) -> None:
        answer = await self._transport.send(
            "token look-up", "GET", "auth/token/lookup-self", token=lease.token
        )
        lease.looked_up, lease.care_at = True, None
        if answer.status != 200:  # e.g. a token without the default policy: never renewed
            logger.info("vault token look-up answered %s: the token is not renewed", answer.status)
            return
        data = answer.body.get("data") if answer.body else None
        ttl = data.get("ttl") if isinstance(data, Mapping) else None
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl <= 0:
            return  # no expiry (a root token), or an answer without a TTL
        assert isinstance(data, Mapping)
        self._schedule(lease, float(ttl), renewable=data.get("renewable") is True)

    async def _renew(self, lease: _Lease) -> None:
        logins = isinstance(self._auth, AppRoleAuth | KubernetesAuth)
        if lease.renewable:
            answer = await self._transport.send(
                "token renewal", "POST", "auth/token/renew-self", token=lease.token, body={}
            )
            if answer.status == 200:
                granted = _Lease(lease.token, looked_up=True, care_at=None)
                self._granted(granted, answer.body, operation="token renewal")
                short = lease.ttl is not None and (granted.ttl or 0) < lease.ttl * (1 - RENEW_AFTER)
                if not (logins and short):  # near its max TTL: a login gives a full one
                    self._lease = granted
                    return
            elif not logins:
                raise status_failure(
                    answer.status, answer.body, operation="token renewal", about_ciphertexts=False
                ) from None
        if logins:
            await self._obtain()
        else:
            lease.care_at = None  # not renewable: it lives until it expires (or the file changes)

    def _granted(self, lease: _Lease, body: Mapping[str, Any] | None, *, operation: str) -> None:
        auth = body.get("auth") if body else None
        try:
            if not isinstance(auth, Mapping):
                raise UnexpectedAnswer("no auth")
            token, ttl = auth.get("client_token"), auth.get("lease_duration")
            if not isinstance(token, str) or not token:
                raise UnexpectedAnswer("no client_token")
            if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0:
                raise UnexpectedAnswer("no valid lease_duration")
        except UnexpectedAnswer as error:
            raise unexpected(operation, error) from None
        lease.token = token
        if ttl > 0:
            self._schedule(lease, float(ttl), renewable=auth.get("renewable") is True)

    def _schedule(self, lease: _Lease, ttl: float, *, renewable: bool) -> None:
        now = self._clock()
        lease.ttl, lease.renewable = ttl, renewable
        lease.expires_at = now + ttl
        renews = renewable or isinstance(self._auth, AppRoleAuth | KubernetesAuth)
        lease.care_at = now + ttl * RENEW_AFTER if renews else None

    def _file_changed(self, path: Path) -> bool:
        try:
            stat = path.stat()
        except OSError:
            return False  # being replaced, or gone: keep the current token meanwhile
        return _stamp(stat) != self._file_stamp

    def _read_token_file(self, path: Path) -> str:
        with contextlib.suppress(OSError):
            self._file_stamp = _stamp(path.stat())
        return _read_file(path, "token")


def _stamp(stat: os.stat_result) -> tuple[int, ...]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _read_file(path: Path, what: str) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        logger.warning("vault %s file %s unreadable: %s", what, path, type(error).__name__)
        raise unavailable("login", f"{what} file unreadable") from None
    if not text:
        raise unavailable("login", f"{what} file {path} is empty") from None
    return text
