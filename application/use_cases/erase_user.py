"""EraseUser: the right to erasure (GDPR art. 17) for one customer."""

from __future__ import annotations

from application.agent import AdminNote, Agent, AgentCheck, change_allowed_at
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.ports.user_data import ErasureReport
from domain.pseudonym import is_pseudonym, pseudonym_of


class EraseUser:
    """Removes every authenticator (with its ciphertext), recovery code, pending enrollment,
    throttle, notification and idempotency record of the user in one transaction, and replaces the
    user id in the audit trail by a keyed pseudonym (``domain.pseudonym``), so that the trail stays
    provable without naming the person. The erasure itself is audited under the pseudonym, with
    the agent as actor. Idempotent: erasing an erased or unknown user succeeds and changes nothing
    but the trail. No notification is sent: it would have to keep the user id.

    Raises:
        StepUpRequired: the agent's token shows no recent second factor.
        ConcurrentUpdate, DependencyUnavailable: nothing was erased; retry.
    """

    def __init__(
        self,
        *,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        check: AgentCheck,
        pseudonym_key: bytes,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._check = check
        self._pseudonym_key = pseudonym_key

    async def __call__(
        self, agent: Agent, user_id: str, note: AdminNote, context: RequestContext
    ) -> ErasureReport:
        now = change_allowed_at(self._check, self._clock, agent, user_id)
        # A pseudonym copied from the trail names a user erased already: nothing is held under it,
        # and its events may not be rewritten twice.
        already_erased = is_pseudonym(user_id)
        pseudonym = user_id if already_erased else pseudonym_of(self._pseudonym_key, user_id)
        actor = pseudonym if agent.subject == user_id else agent.subject
        async with self._unit_of_work() as uow:
            report = (
                ErasureReport() if already_erased else await uow.users.erase(user_id, pseudonym)
            )
            await uow.audit.append(
                AuditEvent(
                    AuditAction.ADMIN_ERASED,
                    pseudonym,
                    None,
                    now,
                    context,
                    detail=_counts(report),
                    actor=actor,
                    reason=note.reason,
                    ticket=note.ticket,
                )
            )
            await uow.commit()
        return report


def _counts(report: ErasureReport) -> str:
    """What went, in the audit event's short note (64 characters at most)."""
    return (
        f"e={report.enrollments} c={report.recovery_codes} t={report.throttles} "
        f"n={report.notifications} i={report.idempotency_records} "
        f"a={report.audit_events_pseudonymised}"
    )[:64]
