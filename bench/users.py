"""The bench's users: tokens for enrollment traffic, and users enrolled through HTTP whose one-time
codes the bench computes (pyotp) for the verify scenario.

A code's time step is accepted once per authenticator, and every accepted code teaches the service
the device's drift (SECURITY.md V2, domain/enrollment.py). The bench keeps each user on codes that
stay valid for a whole run: each run takes every user at most once, with the code of the step ``G``
current when its lines are written, and the run ends before step ``G + 2`` begins. Then the code is
accepted whether the request lands in step ``G`` or ``G + 1``, and the learned drift stays 0 or -1,
which keeps the same rule valid for the next run (a drift of d accepts steps current+d-1..current+d+1).
A user is taken again only in a later step than its last code.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import pyotp

from bench.stack import Issuer

PERIOD: Final = 30
WINDOW: Final = 1
WRONG_CODES_PER_USER: Final = 4
"""Five consecutive failures lock a user for a minute (domain/throttle.py); the bench stays below."""


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // PERIOD)


def code_at(secret: str, step: int) -> str:
    return str(pyotp.TOTP(secret).generate_otp(step))


@dataclass(slots=True)
class TokenUser:
    subject: str
    token: str


def mint_users(issuer: Issuer, prefix: str, count: int) -> list[TokenUser]:
    now = int(time.time())
    return [
        TokenUser(subject, issuer.mint(subject, now=now))
        for subject in (f"{prefix}-{index:07d}" for index in range(count))
    ]


@dataclass(slots=True)
class EnrolledUser:
    subject: str
    token: str
    secret: str
    last_step: int
    """The newest step whose code the bench sent (or may have sent) for this user."""
    wrong_codes: int = 0


class VerifyPool:
    """Enrolled users and the lines (``token<TAB>body``) of verify runs that never replay a code."""

    def __init__(self, users: Sequence[EnrolledUser]) -> None:
        self.users = list(users)

    def __len__(self) -> int:
        return len(self.users)

    def add(self, users: Iterable[EnrolledUser]) -> None:
        self.users.extend(users)

    def available(self, step: int) -> int:
        return sum(1 for user in self.users if user.last_step < step)

    def valid_lines(self, step: int, limit: int | None = None) -> list[str]:
        """One line per user whose last code is older than ``step``: the code of ``step``. The users
        are marked as used at ``step``."""
        chosen = [user for user in self.users if user.last_step < step][:limit]
        random.shuffle(chosen)
        lines = []
        for user in chosen:
            user.last_step = step
            lines.append(f'{user.token}\t{{"code":"{code_at(user.secret, step)}"}}')
        return lines

    def wrong_lines(self, step: int, limit: int | None = None) -> list[str]:
        """One line per user that may still fail without being locked: a code that matches no step
        near ``step`` (so also not with a learned drift)."""
        chosen = sorted(
            (user for user in self.users if user.wrong_codes < WRONG_CODES_PER_USER),
            key=lambda user: user.wrong_codes,
        )[:limit]
        random.shuffle(chosen)
        lines = []
        for user in chosen:
            near = {code_at(user.secret, s) for s in range(step - 4, step + 5)}
            code = f"{secrets.randbelow(10**6):06d}"
            while code in near:
                code = f"{secrets.randbelow(10**6):06d}"
            user.wrong_codes += 1
            lines.append(f'{user.token}\t{{"code":"{code}"}}')
        return lines


def step_for_run(duration: float, margin: float = 5.0) -> int:
    """The step whose codes a run of ``duration`` seconds can use: the current one if the run ends
    before the step after next begins (with ``margin``), else the next one, after waiting for it."""
    if duration + margin > PERIOD:
        raise ValueError(f"a verify run must be shorter than {PERIOD - margin:.0f} s")
    now = time.time()
    step = current_step(now)
    if now - step * PERIOD + duration + margin > 2 * PERIOD:
        wait_until_step(step + 1)
        step += 1
    return step


def wait_until_step(step: int) -> None:
    delay = step * PERIOD + 0.2 - time.time()
    if delay > 0:
        time.sleep(delay)


def write_lines(path: Path, lines: Iterable[str]) -> int:
    count = 0
    with path.open("w") as output:
        for line in lines:
            output.write(line + "\n")
            count += 1
    return count


def enrollment_lines(users: Sequence[TokenUser], body: str, start: int) -> list[str]:
    """Every user once, from ``start`` on (round), with the same body."""
    count = len(users)
    return [f"{users[(start + i) % count].token}\t{body}" for i in range(count)]


class EnrollmentFailed(RuntimeError):
    pass


async def _post(
    client: httpx.AsyncClient, path: str, body: dict[str, str], token: str
) -> httpx.Response:
    """POST with retries while the service answers 503 (pool or Vault busy) or 429."""
    for attempt in range(5):
        answer = await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        if answer.status_code not in (429, 503):
            return answer
        await asyncio.sleep(0.2 * 2**attempt)
    return answer


async def _enroll_one(client: httpx.AsyncClient, user: TokenUser) -> EnrolledUser:
    started = await _post(
        client,
        "/settings/MfaSecret",
        {"mfaMethod": "totp", "deviceName": "bench phone"},
        user.token,
    )
    if started.status_code != 200:
        raise EnrollmentFailed(f"enroll {user.subject}: {started.status_code} {started.text[:300]}")
    answer: Any = started.json()
    secret = str(answer["secret"])
    step = current_step()
    confirmed = await _post(
        client,
        f"/settings/MfaSecret/{answer['enrollmentId']}/verification",
        {"code": code_at(secret, step)},
        user.token,
    )
    if confirmed.status_code != 200:
        raise EnrollmentFailed(
            f"confirm {user.subject}: {confirmed.status_code} {confirmed.text[:300]}"
        )
    return EnrolledUser(user.subject, user.token, secret, last_step=step)


async def _enroll_all(
    base_url: str, users: Sequence[TokenUser], concurrency: int
) -> list[EnrolledUser]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    queue = list(reversed(users))
    enrolled: list[EnrolledUser] = []
    failures: list[str] = []
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while queue and len(failures) < 20:
                user = queue.pop()
                try:
                    enrolled.append(await _enroll_one(client, user))
                except (EnrollmentFailed, httpx.HTTPError) as error:
                    failures.append(str(error))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    if failures:
        raise EnrollmentFailed(
            f"{len(failures)} enrollment(s) failed, e.g.:\n" + "\n".join(failures[:5])
        )
    return enrolled


def enroll_through_http(
    base_url: str, users: Sequence[TokenUser], concurrency: int = 8
) -> list[EnrolledUser]:
    """Enrolls and confirms every user with POST /settings/MfaSecret and its verification, each
    confirmed with the code of the current step (computed with pyotp from the returned secret)."""
    return asyncio.run(_enroll_all(base_url, users, concurrency))
