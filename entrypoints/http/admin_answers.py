"""From the admin use cases' results to the bodies the HTTP routes and the console both answer."""

from __future__ import annotations

from application.ports.audit import RecordedAuditEvent
from application.use_cases.show_user_factors import UserFactors
from entrypoints.http.admin_schemas import (
    AuditEventResponse,
    LockoutState,
    RecoveryCodeState,
    UserFactorsResponse,
)
from entrypoints.http.mfa_secret_answers import metadata


def user_factors_response(user_id: str, factors: UserFactors) -> UserFactorsResponse:
    return UserFactorsResponse(
        user_id=user_id,
        authenticators=[metadata(enrollment) for enrollment in factors.authenticators],
        lockout=LockoutState(failures=factors.failures, locked_until=factors.locked_until),
        recovery_codes=RecoveryCodeState(
            remaining=factors.recovery_codes_remaining,
            generated_at=factors.recovery_codes_generated_at,
        ),
    )


def audit_event_response(recorded: RecordedAuditEvent) -> AuditEventResponse:
    event = recorded.event
    return AuditEventResponse(
        id=recorded.id,
        action=event.action.value,
        user_id=event.user_id,
        actor=event.actor or event.user_id,
        enrollment_id=str(event.enrollment_id) if event.enrollment_id else None,
        occurred_at=event.occurred_at,
        request_id=event.context.request_id,
        client_address=event.context.client_address,
        user_agent=event.context.user_agent,
        detail=event.detail,
        reason=event.reason,
        ticket=event.ticket,
    )
