from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """The current time."""

    def now(self) -> datetime:
        """The current instant as a timezone-aware UTC datetime."""
        ...
