from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.ports.audit import RequestContext
from domain.enrollment import Enrollment


@dataclass(frozen=True, slots=True)
class CheckStart:
    """What reserving a check found."""

    authenticators: list[Enrollment]
    """The user's active authenticators, oldest first."""
    reserved: bool
    """An attempt was taken from the user's quota."""
    retry_after: int | None
    """Not reserved because the user is blocked or attempts in flight fill the quota: the seconds
    to wait (the refusal was audited). None otherwise."""


class CheckReservations(Protocol):
    """Starts a code check: reads what it needs and reserves its attempt, as one unit."""

    async def reserve_check(
        self, user_id: str, now: datetime, digits: Set[int] | None, context: RequestContext
    ) -> CheckStart:
        """Reads the user's active authenticators; when one of them shows codes of a length in
        ``digits`` (any length: None), takes an attempt from the user's throttle as
        ``AttemptThrottle.reserve`` does, or, when that refuses, records its ``CheckBlocked``
        event for ``context``. When none fits, nothing is written.

        Raises:
            ThrottleBusy: another check of the user holds the throttle at this instant (nothing
                written).
            DependencyUnavailable: the store is unreachable or too slow (nothing written).
        """
        ...
