from typing import Protocol


class ReadinessProbe(Protocol):
    """A dependency that can say whether it is reachable."""

    name: str

    async def check(self) -> None:
        """Returns when the dependency answers.

        Raises:
            DependencyUnavailable: it does not, within a short bound.
        """
        ...
