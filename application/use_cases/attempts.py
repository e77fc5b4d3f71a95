"""The attempt gate that every code check passes through: reserve, then succeed, fail or release.

Shared by ConfirmEnrollment and VerifyCode so that one lockout counts every guess of a user
(SECURITY.md V5-V7).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from application.errors import CodeRejected, DependencyUnavailable, ThrottleBusy
from application.ports.audit import RequestContext
from application.ports.check_reservations import CheckReservations
from application.ports.unit_of_work import UnitOfWork
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.check_reservations import TransactionalCheckReservations
from domain.enrollment import Enrollment
from domain.errors import LockedOut
from domain.throttle import IN_FLIGHT_RETRY_AFTER, AttemptThrottle

T = TypeVar("T")
R = TypeVar("R")


class AttemptGate:
    """Reserves an attempt before a code is checked and settles it afterwards.

    One gate serves every use case of a process that checks codes, so that a user's parallel
    checks in this process reach the database one reservation at a time.
    """

    def __init__(
        self, unit_of_work: RecordingUnitsOfWork, reservations: CheckReservations | None = None
    ) -> None:
        self._unit_of_work = unit_of_work
        self._reservations = reservations or TransactionalCheckReservations(unit_of_work)
        self._reserving: set[str] = set()

    async def reserve(
        self,
        user_id: str,
        now: datetime,
        context: RequestContext,
        load: Callable[[UnitOfWork], Awaitable[T]],
    ) -> Reservation[T]:
        """Runs ``load``, then takes an attempt from the user's quota, in one committed transaction.

        ``load`` reads what the check needs and refuses a request that cannot be checked (no
        authenticator, a malformed code) by raising: then nothing is reserved or written.

        Another check of the same user that is reserving at this instant, in this process or
        another, is not waited for: this one is refused at once. One user's parallel guesses so
        queue on no lock and hold at most one pooled connection per process.

        Raises:
            Whatever ``load`` raises.
            LockedOut: the user is blocked, or attempts in flight fill the quota (recorded), or
                another check of the user holds the throttle (not recorded: nothing was checked).
        """
        async with self._one_at_a_time(user_id), self._unit_of_work(context) as uow:
            throttle = await uow.throttles.lock(user_id, wait=False)
            loaded = await load(uow)
            try:
                throttle.reserve(now)
            except LockedOut:
                await uow.commit()  # records the refusal
                raise
            await uow.throttles.save(throttle)
            await uow.commit()
        return Reservation(loaded, self, user_id, now, context)

    async def reserve_check(
        self,
        user_id: str,
        now: datetime,
        context: RequestContext,
        digits: Set[int] | None,
        refuse: Callable[[list[Enrollment]], object],
    ) -> Reservation[list[Enrollment]]:
        """``reserve`` for a check against the user's active authenticators, in the store's one
        unit (``CheckReservations``): ``digits`` are the code lengths the request can be checked
        with (None: any); ``refuse`` raises the error for a request that cannot be checked (no
        authenticator, no authenticator of the code's length), and then nothing was reserved or
        written.

        Raises:
            Whatever ``refuse`` raises.
            LockedOut: as ``reserve``.
        """
        async with self._one_at_a_time(user_id):
            start = await self._reservations.reserve_check(user_id, now, digits, context)
        if start.retry_after is not None:
            raise LockedOut(start.retry_after)
        if not start.reserved:
            try:
                refuse(start.authenticators)
            except Exception as refused:
                self._unit_of_work.records.refused(refused)
                raise
            raise RuntimeError("no attempt was reserved for a request that can be checked")
        return Reservation(start.authenticators, self, user_id, now, context)

    @contextlib.asynccontextmanager
    async def _one_at_a_time(self, user_id: str) -> AsyncIterator[None]:
        """Refuses at once a check of a user whose other check is reserving in this process, or
        (``ThrottleBusy``) in another."""
        if user_id in self._reserving:
            raise LockedOut(IN_FLIGHT_RETRY_AFTER)
        self._reserving.add(user_id)
        try:
            yield
        except ThrottleBusy:
            raise LockedOut(IN_FLIGHT_RETRY_AFTER) from None
        finally:
            self._reserving.discard(user_id)

    async def succeed(self, uow: UnitOfWork, user_id: str) -> None:
        """Resets the user's count, inside the caller's transaction that records the success."""
        throttle = await uow.throttles.lock(user_id)
        throttle.succeed()
        await uow.throttles.save(throttle)

    async def fail(
        self,
        user_id: str,
        now: datetime,
        context: RequestContext,
        *,
        replayed: bool,
        enrollment_id: UUID | None,
    ) -> CodeRejected:
        """Keeps the reserved attempt counted, starts a block on the fifth, records the outcome, and
        returns the error to raise: the same for a wrong and a replayed code (SECURITY.md V4)."""
        async with self._unit_of_work(context) as uow:
            throttle = await uow.throttles.lock(user_id)
            throttle.fail(now, enrollment_id=enrollment_id, replayed=replayed)
            await uow.throttles.save(throttle)
            await uow.commit()
        return CodeRejected(throttle.attempts_left)

    async def release(self, user_id: str, now: datetime, context: RequestContext) -> None:
        """Gives the attempt back after a dependency failed: nothing is counted (SECURITY.md V7).
        When the database itself went down after the reservation, the reservation stays counted."""
        await self._give_back(user_id, context, lambda throttle: throttle.release(now))

    async def withdraw(self, user_id: str, now: datetime, context: RequestContext) -> None:
        """Gives the attempt back when what it was to check was gone meanwhile (an enrollment
        cancelled while its code was checked): nothing is counted, and nothing failed."""
        await self._give_back(user_id, context, lambda throttle: throttle.withdraw(now))

    async def _give_back(
        self, user_id: str, context: RequestContext, give_back: Callable[[AttemptThrottle], None]
    ) -> None:
        async with self._unit_of_work(context) as uow:
            throttle = await uow.throttles.lock(user_id)
            give_back(throttle)
            await uow.throttles.save(throttle)
            await uow.commit()


@dataclass(frozen=True, slots=True)
class Reservation(Generic[T]):
    """An attempt taken from a user's quota, with what ``load`` read to check it."""

    loaded: T
    _gate: AttemptGate
    _user_id: str
    _now: datetime
    _context: RequestContext

    async def run(self, work: Callable[[], Awaitable[R]]) -> R:
        """Runs ``work`` (the decryption the check needs); when ``work`` meets an unavailable
        dependency the attempt is given back before the error goes on (SECURITY.md V7).

        Raises:
            DependencyUnavailable: from ``work``; nothing was counted.
        """
        try:
            return await work()
        except DependencyUnavailable:
            with contextlib.suppress(DependencyUnavailable):
                await self._gate.release(self._user_id, self._now, self._context)
            raise
