"""What a started enrollment shows the user, once: built the same way for the first answer and
for an idempotent replay."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from application.ports.qr_renderer import QrFormat, QrRenderer
from domain.enrollment import Enrollment, EnrollmentStatus
from domain.errors import EnrollmentNotPending
from domain.mfa_method import MfaMethod
from domain.otpauth import OtpauthLabel, build_otpauth_uri
from domain.policy import TotpPolicy
from domain.secret import TotpSecret


@dataclass(frozen=True, slots=True)
class StartedEnrollment:
    """What the user needs, once, to add the authenticator to an app."""

    enrollment_id: uuid.UUID
    method: MfaMethod
    status: EnrollmentStatus
    secret: TotpSecret
    otpauth_uri: str = field(repr=False)
    qr_code_data_uri: str = field(repr=False)
    policy: TotpPolicy
    label: OtpauthLabel
    device_name: str | None
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(
        cls,
        enrollment: Enrollment,
        secret: TotpSecret,
        label: OtpauthLabel,
        qr_renderer: QrRenderer,
        qr_format: QrFormat,
        qr_scale: int,
    ) -> StartedEnrollment:
        """What a pending ``enrollment`` shows: the first answer and an idempotent replay alike."""
        if enrollment.expires_at is None:
            raise EnrollmentNotPending("the enrollment is not pending")
        otpauth_uri = build_otpauth_uri(secret, enrollment.policy, label)
        return cls(
            enrollment_id=enrollment.id,
            method=enrollment.method,
            status=enrollment.status,
            secret=secret,
            otpauth_uri=otpauth_uri,
            qr_code_data_uri=qr_renderer.render(otpauth_uri, qr_format, qr_scale),
            policy=enrollment.policy,
            label=label,
            device_name=enrollment.device_name,
            created_at=enrollment.created_at,
            expires_at=enrollment.expires_at,
        )
