"""The load: customers doing what customers do, one request at a time each, every answer judged.

The mix per request: verification with a valid code (the most), a wrong code, a replayed code, a
recovery code; enrollment and its confirmation, an enrollment left unconfirmed, a second
confirmation; listing, renaming and removing authenticators; attackers guessing codes until they
are locked out.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import httpx

from soak.idp import IdentityProvider
from soak.users import (
    LOCKOUT_AFTER,
    MAX_ACTIVE,
    REGULAR_MAX_ACTIVE,
    REGULAR_MAX_FAILURES,
    Authenticator,
    Customer,
    Verdict,
    body_of,
    code_at,
    judge,
    step_now,
    unanswered_by_balancer,
)

PENDING_TTL_SECONDS: Final = 60
TTL_SLACK_SECONDS: Final = 10.0


@dataclass(frozen=True, slots=True)
class Event:
    at: float
    """Seconds since the soak's start."""
    subject: str
    operation: str
    method: str
    status: int | None
    latency: float
    replica: str
    verdict: Verdict
    detail: str


class Recorder:
    def __init__(self, started: float) -> None:
        self.started = started
        self.events: list[Event] = []
        self.tokens: set[str] = set()
        self.secrets: set[str] = set()
        self.recovery_codes: set[str] = set()


class Session:
    """One customer's exchanges with the service through the load balancer."""

    def __init__(
        self, client: httpx.AsyncClient, idp: IdentityProvider, recorder: Recorder
    ) -> None:
        self.client = client
        self.idp = idp
        self.recorder = recorder
        self.last_retry_after = 1.0
        """The Retry-After of the answer ``call`` returned last: read it right after ``call``,
        before the next ``await`` lets another customer's answer replace it."""

    def _headers(self, customer: Customer) -> dict[str, str]:
        if customer.token_expires - time.time() < 10:
            customer.token, customer.token_expires = self.idp.mint(customer.subject)
            self.recorder.tokens.add(customer.token)
        return {"Authorization": f"Bearer {customer.token}"}

    async def call(
        self,
        customer: Customer,
        operation: str,
        method: str,
        path: str,
        expected: set[int],
        body: dict[str, Any] | None = None,
    ) -> tuple[int | None, Any, Verdict]:
        started = time.time()
        status: int | None = None
        headers: dict[str, str] = {}
        payload: Any = None
        detail = ""
        try:
            answer = await self.client.request(
                method, path, json=body, headers=self._headers(customer)
            )
            status = answer.status_code
            headers = {name.lower(): value for name, value in answer.headers.items()}
            payload = body_of(answer)
        except httpx.HTTPError as error:
            detail = type(error).__name__
        verdict = judge(status, headers, expected)
        retry_after = headers.get("retry-after", "")
        self.last_retry_after = float(retry_after) if retry_after.isdigit() else 1.0
        if verdict is Verdict.UNEXPECTED:
            problem = payload if isinstance(payload, dict) else {}
            detail = f"expected {sorted(expected)}: {problem.get('type', '')}"
        if verdict is Verdict.BALANCER and not unanswered_by_balancer(status, headers):
            customer.uncertain = True
        self.recorder.events.append(
            Event(
                at=started - self.recorder.started,
                subject=customer.subject,
                operation=operation,
                method=method,
                status=status,
                latency=time.time() - started,
                replica=headers.get("x-soak-replica", "-"),
                verdict=verdict,
                detail=detail,
            )
        )
        return status, payload, verdict

    # --- what a customer does ----------------------------------------------------------------

    async def enroll(self, customer: Customer, confirm: bool = True) -> None:
        full = len(customer.active()) >= MAX_ACTIVE
        status, body, _ = await self.call(
            customer,
            "enroll",
            "POST",
            "/settings/MfaSecret",
            {409} if full else {200},
            {"mfaMethod": "totp", "deviceName": f"phone {secrets.token_hex(2)}"},
        )
        if status != 200 or not isinstance(body, dict):
            return
        for replaced in customer.pending():
            replaced.status = "replaced"
        authenticator = Authenticator(str(body["enrollmentId"]), str(body["secret"]), time.time())
        self.recorder.secrets.add(authenticator.secret)
        customer.authenticators.append(authenticator)
        if not confirm:
            authenticator.status = "abandoned"
            return
        await self.confirm(customer, authenticator)

    async def confirm(self, customer: Customer, authenticator: Authenticator) -> None:
        age = time.time() - authenticator.created
        expected = {200}
        if age > PENDING_TTL_SECONDS - TTL_SLACK_SECONDS:
            expected.add(410)
        if age > PENDING_TTL_SECONDS + TTL_SLACK_SECONDS:
            expected = {410}
        step = step_now()
        authenticator.last_step = step
        code = code_at(authenticator.secret, step)
        customer.sent_codes.add(code)
        status, body, _ = await self.call(
            customer,
            "confirm",
            "POST",
            f"/settings/MfaSecret/{authenticator.enrollment_id}/verification",
            expected,
            {"code": code},
        )
        if status == 200 and isinstance(body, dict):
            authenticator.status = "active"
            authenticator.accepted_step = step
            customer.confirmed.add(authenticator.enrollment_id)
            customer.failures = 0
            codes = [str(c) for c in body.get("recoveryCodes") or []]
            customer.recovery_codes = codes
            self.recorder.recovery_codes.update(codes)
        elif status == 410:
            authenticator.status = "expired"

    async def confirm_again(self, customer: Customer) -> None:
        active = customer.active()
        if not active:
            await self.list(customer)
            return
        chosen = random.choice(active)
        await self.call(
            customer,
            "confirm again",
            "POST",
            f"/settings/MfaSecret/{chosen.enrollment_id}/verification",
            {409},
            {"code": customer.wrong_code()},
        )

    async def verify_valid(self, customer: Customer) -> None:
        chosen = customer.fresh_code()
        if chosen is None:
            await self.list(customer)
            return
        authenticator, code = chosen
        status, _, _ = await self.call(
            customer, "verify valid", "POST", "/mfa/verify", {200}, {"code": code}
        )
        if status == 200:
            pair = (authenticator.enrollment_id, code)
            if pair in customer.accepted_codes:
                self._double_use(customer, "verify valid")
            customer.accepted_codes.add(pair)
            customer.failures = 0
            authenticator.accepted_step = max(authenticator.accepted_step, authenticator.last_step)

    def _double_use(self, customer: Customer, operation: str) -> None:
        self.recorder.events.append(
            Event(
                time.time() - self.recorder.started,
                customer.subject,
                operation,
                "POST",
                200,
                0.0,
                "-",
                Verdict.UNEXPECTED,
                "a code accepted twice",
            )
        )

    async def verify_wrong(self, customer: Customer) -> None:
        await self._failing(customer, "verify wrong", customer.wrong_code())

    async def verify_replayed(self, customer: Customer) -> None:
        code = customer.replayed_code()
        if code is None:
            await self.verify_valid(customer)
            return
        await self._failing(customer, "verify replayed", code)

    async def _failing(self, customer: Customer, operation: str, code: str) -> None:
        now = time.time()
        if customer.locked_until > now + 1 or customer.failures >= LOCKOUT_AFTER:
            expected = {429}
        elif customer.locked_until > now - 1 or customer.failure_runs:
            expected = {400, 429}  # at the lock's end, or after one: the service decides
        else:
            expected = {400}
        status, _, _ = await self.call(
            customer, operation, "POST", "/mfa/verify", expected, {"code": code}
        )
        if status == 400:
            customer.failures += 1
        elif status == 429:
            if customer.failures:
                customer.failure_runs.append(customer.failures)
            customer.failures = 0
            customer.locked_until = now + self.last_retry_after

    async def recover(self, customer: Customer) -> None:
        if not customer.recovery_codes or not customer.active():
            await self.verify_valid(customer)
            return
        code = customer.recovery_codes.pop()
        status, _, _ = await self.call(
            customer, "recovery code", "POST", "/mfa/verify", {200}, {"recoveryCode": code}
        )
        if status == 200:
            customer.failures = 0

    async def list(self, customer: Customer) -> None:
        status, body, _ = await self.call(customer, "list", "GET", "/settings/MfaSecret", {200})
        if status != 200 or not isinstance(body, list):
            return
        listed = {str(item["id"]): str(item["status"]) for item in body}
        known_active = {a.enrollment_id for a in customer.active()}
        if not customer.uncertain and not known_active <= set(listed):
            self.recorder.events.append(
                Event(
                    time.time() - self.recorder.started,
                    customer.subject,
                    "list",
                    "GET",
                    status,
                    0.0,
                    "-",
                    Verdict.UNEXPECTED,
                    "an active authenticator is missing from the list",
                )
            )
        for authenticator in customer.authenticators:
            state = listed.get(authenticator.enrollment_id)
            if state == "active" and authenticator.status != "active":
                authenticator.status = "active"  # its confirmation's answer was lost
            elif state is None and authenticator.status == "active" and customer.uncertain:
                authenticator.status = "removed"  # its removal's answer was lost

    async def rename(self, customer: Customer) -> None:
        active = customer.active()
        if not active:
            await self.list(customer)
            return
        chosen = random.choice(active)
        await self.call(
            customer,
            "rename",
            "PATCH",
            f"/settings/MfaSecret/{chosen.enrollment_id}",
            {200},
            {"deviceName": f"renamed {secrets.token_hex(2)}"},
        )

    async def remove(self, customer: Customer) -> None:
        active = customer.active()
        if len(active) < 2:
            await self.enroll(customer)
            return
        chosen = random.choice(active)
        status, _, _ = await self.call(
            customer, "remove", "DELETE", f"/settings/MfaSecret/{chosen.enrollment_id}", {204}
        )
        if status == 204:
            chosen.status = "removed"
            customer.removed.add(chosen.enrollment_id)

    async def resync(self, customer: Customer) -> None:
        """After a lost answer: learn the authenticators' states and reset the failure count with
        a fresh valid code; whatever the service answers is accepted as the truth."""
        customer.uncertain = True
        await self.list(customer)
        chosen = customer.fresh_code()
        if chosen is not None:
            status, _, _ = await self.call(
                customer, "resync", "POST", "/mfa/verify", {200, 400, 429}, {"code": chosen[1]}
            )
            if status == 200:
                customer.failures = 0
                customer.uncertain = False
                customer.accepted_codes.add((chosen[0].enrollment_id, chosen[1]))
                chosen[0].accepted_step = chosen[0].last_step
            elif status == 429:
                customer.failures = 0
                customer.locked_until = time.time() + self.last_retry_after
                customer.uncertain = False
        elif not customer.active():
            customer.uncertain = False

    # --- choosing ----------------------------------------------------------------------------

    def next_action(self, customer: Customer) -> Callable[[Customer], Awaitable[None]]:
        if customer.uncertain:
            return self.resync
        if customer.attacker:
            if not customer.active():
                return self.enroll
            return self.verify_wrong
        if not customer.active():
            if random.random() < 0.1:
                return self._abandon
            return self.enroll
        choices: list[tuple[Callable[[Customer], Awaitable[None]], float]] = [
            (self.verify_valid, 40),
            (self.list, 8),
            (self.rename, 3),
            (self.recover, 2),
            (self.confirm_again, 2),
        ]
        if customer.failures < REGULAR_MAX_FAILURES:
            choices += [(self.verify_wrong, 10), (self.verify_replayed, 8)]
        if len(customer.active()) < REGULAR_MAX_ACTIVE:
            choices.append((self.enroll, 4))
        if len(customer.active()) >= 2:
            choices.append((self.remove, 3))
        actions, weights = zip(*choices, strict=True)
        chosen: Callable[[Customer], Awaitable[None]] = random.choices(actions, weights)[0]
        return chosen

    async def _abandon(self, customer: Customer) -> None:
        await self.enroll(customer, confirm=False)


async def drive(
    session: Session,
    customers: list[Customer],
    *,
    rate: float,
    until: Callable[[], bool],
    concurrency: int = 12,
) -> None:
    """Starts about ``rate`` customer actions per second, each customer one at a time, until
    ``until()`` says stop."""
    idle = asyncio.Queue[Customer]()
    for customer in random.sample(customers, len(customers)):
        idle.put_nowait(customer)
    slots = asyncio.Semaphore(concurrency)
    running: set[asyncio.Task[None]] = set()

    async def act(customer: Customer) -> None:
        try:
            if customer.attacker and customer.locked_until > time.time():
                await session.list(customer)
            else:
                await session.next_action(customer)(customer)
        finally:
            idle.put_nowait(customer)
            slots.release()

    interval = 1.0 / rate
    next_start = time.monotonic()
    while not until():
        await slots.acquire()
        customer = await idle.get()
        task = asyncio.create_task(act(customer))
        running.add(task)
        task.add_done_callback(running.discard)
        next_start += interval
        delay = next_start - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            next_start = time.monotonic()
    await asyncio.gather(*running)
