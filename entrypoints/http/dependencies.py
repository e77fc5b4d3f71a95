"""Litestar dependencies: the use cases the lifespan built, and the request's ``Idempotency-Key``,
injected by parameter name into the handlers that declare them.

Litestar resolves a handler's independent dependencies together in an anyio task group, a task
each: per request that is enough, under a flood of checks, to trip the per-worker concurrency
limit. So a handler's dependencies form one chain: the use case of an idempotent route is
provided after ``idempotency`` (``use_case(..., idempotent=True)``), and each batch holds one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from entrypoints.http.idempotency import Idempotency, provide_idempotency
from entrypoints.http.services import Services, services_in


def use_case(pick: Callable[[Services], object], *, idempotent: bool = False) -> Provide:
    """``Provide`` for one of the services, e.g. ``use_case(lambda s: s.start_enrollment)``;
    ``idempotent``: for a route that also declares ``idempotency``."""

    def provide(state: State) -> Any:
        return pick(services_in(state))

    def provide_after_idempotency(state: State, idempotency: NamedDependency[Idempotency]) -> Any:
        return pick(services_in(state))

    return Provide(provide_after_idempotency if idempotent else provide, sync_to_thread=False)


IDEMPOTENCY: dict[str, Provide] = {
    "idempotency": Provide(provide_idempotency, sync_to_thread=False),
}
"""App-wide: the request's ``Idempotency-Key`` with the guard that remembers answers."""
