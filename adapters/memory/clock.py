from datetime import datetime, timedelta


class FrozenClock:
    """A clock that stands still until moved: for tests and simulations."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware time")
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta
