"""Concurrent single requests gathered into one batch request, to spare Vault round trips under load."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from application.errors import ApplicationError, DependencyUnavailable

Item = TypeVar("Item")
Result = TypeVar("Result")


class Coalescer(Generic[Item, Result]):
    """Sends the items submitted within ``window`` seconds of the first one as one batch.

    A batch leaves when the window closes or when it holds ``max_batch`` items. ``send`` returns one
    outcome per item, in order: its result, or the exception its caller is to receive. So one item's
    failure is only its caller's; if ``send`` raises, every caller of that batch receives the error.
    A caller that is cancelled leaves the others unaffected. Each caller waits at most ``window``
    plus ``send``'s own bound. Use from one event loop only.
    """

    def __init__(
        self,
        send: Callable[[Sequence[Item]], Awaitable[Sequence[Result | Exception]]],
        *,
        window: float,
        max_batch: int = 100,
    ) -> None:
        if window <= 0 or max_batch < 1:
            raise ValueError("window must be positive and max_batch at least 1")
        self._send = send
        self._window = window
        self._max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._in_flight: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """The outcome of ``item`` once its batch is answered.

        Raises:
            Whatever ``send`` raises for the batch or reports for this item.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self._max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._window, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._answer(batch))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _answer(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            outcomes = await self._send([item for item, _ in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError("a batch answer must hold one outcome per item")
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as error:
            outcomes = [_copy(error) for _ in batch]
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # its caller was cancelled
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


def _copy(error: Exception) -> Exception:
    """One exception object per caller, so that tracebacks do not pile up on a shared one."""
    if isinstance(error, DependencyUnavailable):
        return DependencyUnavailable(error.dependency, error.retry_after)
    if isinstance(error, ApplicationError):
        return type(error)(*error.args)
    return error
