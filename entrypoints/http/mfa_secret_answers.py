"""From the use cases' results to the bodies of /settings/MfaSecret, and what a retry is shown."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final, Literal

import msgspec

from application.errors import EnrollmentNotFound
from application.ports.audit import RequestContext
from application.ports.idempotency import StoredOutcome
from application.ports.qr_renderer import QrFormat
from application.step_up import Authentication
from application.use_cases.show_pending_enrollment import ShowPendingEnrollment
from application.use_cases.started_enrollment import StartedEnrollment
from domain.enrollment import Enrollment, EnrollmentStatus
from domain.mfa_method import MfaMethod
from domain.policy import supported_apps
from entrypoints.http.idempotency import StoredBody
from entrypoints.http.schemas import (
    AuthenticatorResponse,
    ConfirmEnrollmentResponse,
    StartEnrollmentRequest,
    StartEnrollmentResponse,
)

WIRE_METHOD: Final[dict[MfaMethod, Literal["totp"]]] = {MfaMethod.TOTP: "totp"}
WIRE_STATUS: Final[dict[EnrollmentStatus, Literal["pending"]]] = {
    EnrollmentStatus.PENDING: "pending"
}
"""What a start shows: a new enrollment is always pending."""
LISTED_STATUS: Final[dict[EnrollmentStatus, Literal["pending", "active"]]] = {
    EnrollmentStatus.PENDING: "pending",
    EnrollmentStatus.ACTIVE: "active",
}
"""What a list or a read shows: a revoked authenticator is never listed or shown."""


def enrollment_id_from(text: str) -> uuid.UUID:
    """The id in the path; a malformed one is as unknown as any other."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise EnrollmentNotFound("no such authenticator") from None


def metadata(enrollment: Enrollment) -> AuthenticatorResponse:
    return AuthenticatorResponse(
        id=str(enrollment.id),
        method=WIRE_METHOD[enrollment.method],
        status=LISTED_STATUS[enrollment.status],
        device_name=enrollment.device_name,
        created_at=enrollment.created_at,
        activated_at=enrollment.activated_at,
        last_used_at=enrollment.last_used_at,
        algorithm=enrollment.policy.algorithm.value,
        digits=enrollment.policy.digits,
        period=enrollment.policy.period,
    )


def started_response(started: StartedEnrollment) -> StartEnrollmentResponse:
    return StartEnrollmentResponse(
        enrollment_id=str(started.enrollment_id),
        mfa_method=WIRE_METHOD[started.method],
        status=WIRE_STATUS[started.status],
        secret=started.secret.base32,
        secret_groups=started.secret.grouped,
        otpauth_uri=started.otpauth_uri,
        qr_code_url=started.qr_code_data_uri,
        algorithm=started.policy.algorithm.value,
        digits=started.policy.digits,
        period=started.policy.period,
        issuer=started.label.issuer,
        account_name=started.label.account_name,
        device_name=started.device_name,
        created_at=started.created_at,
        expires_at=started.expires_at,
        supported_apps=list(supported_apps(started.policy)),
    )


@dataclass(frozen=True, slots=True)
class ShownAgain:
    """A retry of a start is shown the same pending enrollment again: its secret comes from the
    stored, encrypted row, never from the kept answer (which holds the enrollment's id only)."""

    show: ShowPendingEnrollment
    user_id: str
    account_name: str
    request: StartEnrollmentRequest
    authentication: Authentication
    context: RequestContext

    def keep(self, answer: StartEnrollmentResponse) -> StoredOutcome:
        return StoredOutcome("", answer.enrollment_id)

    async def replay(self, earlier: StoredOutcome) -> StartEnrollmentResponse:
        shown = await self.show(
            self.user_id,
            uuid.UUID(earlier.resource_id),
            self.account_name,
            QrFormat(self.request.qr_format),
            self.request.qr_scale,
            authentication=self.authentication,
            context=self.context,
        )
        return started_response(shown)


CONFIRMED = StoredBody(
    ConfirmEnrollmentResponse,
    hide=lambda answer: msgspec.structs.replace(answer, recovery_codes=None),
)
"""A retry of a confirmation gets the first answer without its recovery codes (shown once); the
route checks first that it is still true (``ConfirmationStanding``)."""
