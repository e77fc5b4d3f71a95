"""How many authenticators a user may hold and how many enrollments start per hour: the rule every
store's ``EnrollmentStarts`` applies to what it counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from application.errors import ActivatedMeanwhile, EnrollmentRateLimited, TooManyAuthenticators

RATE_WINDOW: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class EnrollmentLimits:
    """A user may start at most ``max_starts_per_hour`` enrollments in any hour, and only while
    holding fewer than ``max_active`` active authenticators."""

    max_active: int
    max_starts_per_hour: int
    without_step_up: bool = False
    """The start went on without a step-up, as its user held no active authenticator: one found
    when it is stored was confirmed meanwhile, and the start needs the step-up after all."""

    @staticmethod
    def window_start(now: datetime) -> datetime:
        """The oldest start that still counts at ``now``."""
        return now - RATE_WINDOW

    def check(self, recent_starts: int, active: int) -> None:
        """Returns when one more start is allowed to a user who started ``recent_starts``
        enrollments since ``window_start`` and holds ``active`` active authenticators.

        Raises:
            EnrollmentRateLimited: ``max_starts_per_hour`` starts in the window (checked first).
            ActivatedMeanwhile: an active authenticator, for a start ``without_step_up``.
            TooManyAuthenticators: ``max_active`` active authenticators.
        """
        if recent_starts >= self.max_starts_per_hour:
            raise EnrollmentRateLimited(int(RATE_WINDOW.total_seconds()))
        if active and self.without_step_up:
            raise ActivatedMeanwhile("an authenticator was activated meanwhile")
        if active >= self.max_active:
            raise TooManyAuthenticators(
                f"at most {self.max_active} authenticators; remove one first"
            )
