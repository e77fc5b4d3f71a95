"""Request and response bodies of the HTTP contract (msgspec Structs, camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from application.ports.qr_renderer import DEFAULT_QR_SCALE, MAX_QR_SCALE, MIN_QR_SCALE

DeviceName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern="^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]+$",
        description="A name to tell this authenticator apart: 1 to 64 printable characters.",
        examples=["Alice's phone"],
    ),
]


class StartEnrollmentRequest(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    mfa_method: Annotated[
        Literal["totp"], msgspec.Meta(description="The second-factor method. Allow-list: totp.")
    ]
    device_name: DeviceName | None = None
    qr_format: Annotated[
        Literal["svg", "png"],
        msgspec.Meta(description="Image format of the QR code in qrCodeUrl."),
    ] = "svg"
    qr_scale: Annotated[
        int,
        msgspec.Meta(
            ge=MIN_QR_SCALE,
            le=MAX_QR_SCALE,
            description=(
                "Pixels per module of the QR code: the PNG's pixels, the SVG's intrinsic size "
                "(its viewBox lets it scale crisply to any size)."
            ),
        ),
    ] = DEFAULT_QR_SCALE


class StartEnrollmentResponse(msgspec.Struct, rename="camel"):
    """A pending authenticator and, shown this once, its secret."""

    enrollment_id: str
    mfa_method: Literal["totp"]
    status: Literal["pending"]
    secret: Annotated[str, msgspec.Meta(description="Base32 secret, 160 bits, no padding.")]
    secret_groups: Annotated[str, msgspec.Meta(description="The secret in groups of four.")]
    otpauth_uri: Annotated[str, msgspec.Meta(description="Key URI Format, for the QR code.")]
    qr_code_url: Annotated[
        str, msgspec.Meta(description="A data: URI of a QR code that decodes to otpauthUri.")
    ]
    algorithm: Literal["SHA1", "SHA256", "SHA512"]
    digits: int
    period: int
    issuer: str
    account_name: str
    device_name: str | None
    created_at: datetime
    expires_at: datetime
    supported_apps: Annotated[
        list[str],
        msgspec.Meta(description="Common authenticator apps that produce correct codes here."),
    ]


class FieldError(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True, rename="camel"):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    correlation_id: str | None = None
    attempts_remaining: int | None = None
    estimated_skew_seconds: int | None = None


class HealthStatus(msgspec.Struct):
    status: Literal["ok", "unavailable", "draining"]
    checks: dict[str, Literal["ok", "unavailable"]] = msgspec.field(default_factory=dict)


Code = Annotated[
    str,
    msgspec.Meta(
        pattern="^[0-9]{6,8}$",
        description=(
            "The code the authenticator app shows: exactly as many ASCII digits as the "
            "authenticator's policy (6 by default), as a string."
        ),
        examples=["123456"],
    ),
]
RecoveryCode = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=32,
        description="A recovery code, e.g. K7QM-2D9V-XR4T-8BNA (case, spaces and hyphens ignored).",
    ),
]


class ConfirmEnrollmentRequest(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    code: Code


class ConfirmEnrollmentResponse(msgspec.Struct, rename="camel", omit_defaults=True):
    enrollment_id: str
    status: Literal["active"]
    activated_at: datetime
    recovery_codes: (
        Annotated[
            list[str],
            msgspec.Meta(
                description="Ten single-use codes, shown this once; only when the user had none."
            ),
        ]
        | None
    ) = None


class VerifyRequest(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Exactly one of ``code`` and ``recoveryCode``."""

    code: Code | None = None
    recovery_code: RecoveryCode | None = None

    def __post_init__(self) -> None:
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send exactly one of code and recoveryCode")


class VerifyResponse(msgspec.Struct, rename="camel"):
    verified: bool
    method: Literal["totp", "recoveryCode"]
    enrollment_id: str | None
    verified_at: datetime
    recovery_codes_remaining: int


class RecoveryCodesResponse(msgspec.Struct, rename="camel"):
    recovery_codes: list[str]
    generated_at: datetime


class RecoveryCodeStatusResponse(msgspec.Struct, rename="camel"):
    remaining: int
    generated_at: datetime | None


class AuthenticatorResponse(msgspec.Struct, rename="camel"):
    """An authenticator's metadata. Never its secret, URI or QR code."""

    id: str
    method: Literal["totp"]
    status: Literal["pending", "active"]
    device_name: str | None
    created_at: datetime
    activated_at: datetime | None
    last_used_at: datetime | None
    algorithm: Literal["SHA1", "SHA256", "SHA512"]
    digits: int
    period: int


class RenameRequest(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    device_name: DeviceName | None
