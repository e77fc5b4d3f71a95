"""Simulated customers, each with their own authenticator app: they know their secrets, the steps
they have used, their recovery codes and how many wrong codes they sent in a row, so that every
answer is judged right or wrong from what a real customer would expect, not only by its status.

A customer whose answer was lost (the connection dropped, or the load balancer answered for a
replica) no longer knows what the service did; the next thing it does is to find out again
(``resync``): it lists its authenticators and checks a fresh code, and accepts what it learns.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import pyotp

PERIOD: Final = 30
LOCKOUT_AFTER: Final = 5
MAX_ACTIVE: Final = 5
REGULAR_MAX_ACTIVE: Final = 3
"""Regular customers stay below the service's limit; a few push against it on purpose."""
REGULAR_MAX_FAILURES: Final = 3
"""Regular customers never lock themselves out; attackers do."""


def step_now() -> int:
    return int(time.time() // PERIOD)


def code_at(secret: str, step: int) -> str:
    return str(pyotp.TOTP(secret).generate_otp(step))


class Verdict(StrEnum):
    OK = "ok"
    """The answer a customer expects (2xx, or the 4xx its request deserves)."""
    UNAVAILABLE = "unavailable"
    """503 with Retry-After from the service: a dependency is down, nothing changed."""
    BALANCER = "balancer"
    """The load balancer answered for a replica, or the connection failed: the outcome is unknown."""
    UNEXPECTED = "unexpected"


@dataclass
class Authenticator:
    enrollment_id: str
    secret: str
    created: float
    status: str = "pending"  # pending, active, abandoned
    last_step: int = -1
    """The newest step whose code this customer sent for it (accepted or possibly accepted)."""
    accepted_step: int = -1
    """The newest step whose code the service accepted for it."""


@dataclass
class Customer:
    subject: str
    attacker: bool = False
    token: str = ""
    token_expires: float = 0.0
    authenticators: list[Authenticator] = field(default_factory=list)
    recovery_codes: list[str] = field(default_factory=list)
    failures: int = 0
    """Evaluated failures in a row (wrong or replayed codes) since the last success."""
    locked_until: float = 0.0
    uncertain: bool = False
    accepted_codes: set[tuple[str, str]] = field(default_factory=set)
    """(enrollment id, code) pairs the service accepted: a second acceptance is a double use."""
    failure_runs: list[int] = field(default_factory=list)
    """For attackers: how many failures were evaluated before each lockout."""
    confirmed: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    sent_codes: set[str] = field(default_factory=set)

    def active(self) -> list[Authenticator]:
        return [a for a in self.authenticators if a.status == "active"]

    def pending(self) -> list[Authenticator]:
        return [a for a in self.authenticators if a.status == "pending"]

    def fresh_code(self) -> tuple[Authenticator, str] | None:
        """A code of the current step for an active authenticator not yet used in this step."""
        step = step_now()
        candidates = [a for a in self.active() if a.last_step < step]
        if not candidates:
            return None
        chosen = random.choice(candidates)
        chosen.last_step = step
        code = code_at(chosen.secret, step)
        self.sent_codes.add(code)
        return chosen, code

    def wrong_code(self) -> str:
        step = step_now()
        near = {
            code_at(a.secret, s) for a in self.authenticators for s in range(step - 4, step + 5)
        }
        while True:
            code = f"{secrets.randbelow(10**6):06d}"
            if code not in near:
                return code

    def replayed_code(self) -> str | None:
        """A code the service accepted within the last step (so still inside its window)."""
        used = [a for a in self.active() if a.accepted_step >= step_now() - 1]
        if not used:
            return None
        chosen = random.choice(used)
        return code_at(chosen.secret, chosen.accepted_step)


def unanswered_by_balancer(status: int | None, headers: dict[str, str]) -> bool:
    """HAProxy's own 503: no replica was ready, the request reached none (nothing happened)."""
    return status == 503 and headers.get("x-soak-replica") == "haproxy"


def judge(status: int | None, headers: dict[str, str], expected: set[int]) -> Verdict:
    if status is None:
        return Verdict.BALANCER
    if headers.get("x-soak-replica") == "haproxy":
        return Verdict.BALANCER
    if status in expected:
        return Verdict.OK
    if status == 503 and "retry-after" in headers:
        return Verdict.UNAVAILABLE
    return Verdict.UNEXPECTED


def body_of(answer: Any) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None
