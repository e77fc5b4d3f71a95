"""Taking one authenticator away, the same for its owner and for the helpdesk."""

from __future__ import annotations

from datetime import datetime

from application.ports.notifications import Notification, NotificationKind
from application.ports.unit_of_work import UnitOfWork
from domain.enrollment import Enrollment, EnrollmentStatus


async def remove_or_revoke(uow: UnitOfWork, enrollment: Enrollment, now: datetime) -> bool:
    """Deletes a pending enrollment, or revokes an active one and tells its owner, in ``uow``.
    Returns whether it was revoked (an active authenticator) rather than cancelled."""
    if enrollment.status is EnrollmentStatus.PENDING:
        await uow.enrollments.remove(enrollment)
        return False
    enrollment.revoke(now)
    await uow.enrollments.update(enrollment)
    await uow.outbox.add(
        Notification(NotificationKind.AUTHENTICATOR_REMOVED, enrollment.user_id, enrollment.id, now)
    )
    return True
