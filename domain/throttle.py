"""The lockout that stops guessing: one counter per user, shared by every authenticator, replica and
token (SECURITY.md V5, EU PSD2 RTS 2018/389 Art. 4(3)(b))."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from domain.errors import LockedOut
from domain.events import (
    CheckBlocked,
    CheckInterrupted,
    CheckWithdrawn,
    CodeRefused,
    DomainEvent,
    LockoutLifted,
    LockoutStarted,
    RecoveryCodeUsed,
)

MAX_CONSECUTIVE_FAILURES = 5
"""PSD2 RTS Art. 4(3)(b): no more than five failed attempts before a temporary or permanent block."""

FIRST_BLOCK = timedelta(minutes=1)
LONGEST_BLOCK = timedelta(hours=1)
IN_FLIGHT_RETRY_AFTER = 1
"""Seconds to wait when the quota is taken by attempts still being checked."""


@dataclass(slots=True, kw_only=True)
class AttemptThrottle:
    """Counts a user's consecutive failed checks and blocks checks after five.

    An attempt is *reserved* before its code is checked, so attempts in flight count: 50 parallel
    guesses get at most five evaluated. The reservation then ends as a success (the count resets),
    a failure (the count stays; the fifth starts a block) or is released when a dependency failed
    (SECURITY.md V7: nothing counted). Blocks double from one minute up to one hour; there is no
    permanent block. ``version`` is 0 until the throttle is first stored. What happened is appended
    to ``events``, which the unit of work that stores it collects.
    """

    user_id: str
    failures: int = 0
    locked_until: datetime | None = None
    lockouts: int = 0
    version: int = 0
    events: list[DomainEvent] = field(default_factory=list, init=False, repr=False, compare=False)

    def collect_events(self) -> list[DomainEvent]:
        """The events appended since the last call, oldest first; they are handed out once."""
        collected = list(self.events)
        self.events.clear()
        return collected

    @property
    def attempts_left(self) -> int:
        return max(0, MAX_CONSECUTIVE_FAILURES - self.failures)

    def reserve(self, now: datetime) -> None:
        """Takes one attempt from the quota.

        Raises:
            LockedOut: a block is running, or attempts in flight already fill the quota (the
                refusal is recorded).
        """
        if self.locked_until is not None:
            if now < self.locked_until:
                self.events.append(CheckBlocked(self.user_id, now))
                raise LockedOut(math.ceil((self.locked_until - now).total_seconds()))
            self.locked_until = None
            self.failures = 0
        if self.failures >= MAX_CONSECUTIVE_FAILURES:
            self.events.append(CheckBlocked(self.user_id, now))
            raise LockedOut(IN_FLIGHT_RETRY_AFTER)
        self.failures += 1

    def refuse_while_blocked(self, now: datetime) -> None:
        """For an answer about the user that is not a check (nothing is reserved or recorded).

        Raises:
            LockedOut: a block is running.
        """
        if self.locked_until is not None and now < self.locked_until:
            raise LockedOut(math.ceil((self.locked_until - now).total_seconds()))

    def succeed(self) -> None:
        """The reserved attempt passed: the count and the back-off start over."""
        self.failures = 0
        self.lockouts = 0
        self.locked_until = None

    def accept_recovery_code(self, now: datetime) -> None:
        """The reserved attempt was a recovery code that was used up: as ``succeed``, recorded."""
        self.succeed()
        self.events.append(RecoveryCodeUsed(self.user_id, now))

    def fail(
        self, now: datetime, *, enrollment_id: UUID | None = None, replayed: bool = False
    ) -> bool:
        """The reserved attempt failed, with a wrong code or one of ``enrollment_id`` used already
        (``replayed``); it stays counted. Returns whether this failure started a block."""
        self.events.append(CodeRefused(self.user_id, now, enrollment_id, replayed))
        if self.failures < MAX_CONSECUTIVE_FAILURES or self.locked_until is not None:
            return False
        self.locked_until = now + min(FIRST_BLOCK * 2 ** min(self.lockouts, 6), LONGEST_BLOCK)
        self.lockouts += 1
        self.events.append(LockoutStarted(self.user_id, now))
        return True

    @property
    def is_locked_or_counting(self) -> bool:
        """Whether there is anything to lift: failures counted or a block set."""
        return self.failures > 0 or self.locked_until is not None

    def lift(self, now: datetime) -> bool:
        """A helpdesk agent lifts the block and clears the count, after checking who the user is.
        The back-off level stays: if guessing starts again, the next block is the longer one.
        Returns whether there was anything to lift; recorded either way."""
        lifted = self.is_locked_or_counting
        self.failures = 0
        self.locked_until = None
        self.events.append(LockoutLifted(self.user_id, now, lifted))
        return lifted

    def release(self, now: datetime) -> None:
        """The reserved attempt could not be checked (a dependency failed): it is given back."""
        self._give_back(CheckInterrupted(self.user_id, now))

    def withdraw(self, now: datetime) -> None:
        """The reserved attempt had nothing left to check (a cancelled enrollment): given back."""
        self._give_back(CheckWithdrawn(self.user_id, now))

    def _give_back(self, why: DomainEvent) -> None:
        self.failures = max(0, self.failures - 1)
        self.events.append(why)
