"""Taking one authenticator away, the same for its owner and for the helpdesk."""

from __future__ import annotations

from datetime import datetime

from application.ports.unit_of_work import UnitOfWork
from domain.enrollment import Enrollment, EnrollmentStatus


async def remove_or_revoke(uow: UnitOfWork, enrollment: Enrollment, now: datetime) -> None:
    """Cancels and deletes a pending enrollment, or revokes an active one, in ``uow``; the
    unit of work records which, and tells the owner of a revocation."""
    if enrollment.status is EnrollmentStatus.PENDING:
        enrollment.cancel(now)
        await uow.enrollments.remove(enrollment)
        return
    enrollment.revoke(now)
    await uow.enrollments.update(enrollment)
