"""Request and response bodies of the admin routes (msgspec Structs, camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from application.agent import MAX_REASON_CHARACTERS, MAX_TICKET_CHARACTERS
from entrypoints.http.schemas import AuthenticatorResponse

_PRINTABLE = "^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]+$"


class AdminNoteRequest(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """Why the agent acts; both fields go to the audit trail. Write no personal data into them:
    they outlive an erasure."""

    reason: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=MAX_REASON_CHARACTERS,
            pattern=_PRINTABLE,
            description="Why, in the agent's words (required).",
            examples=["Customer lost their phone; identity checked by call-back"],
        ),
    ]
    ticket: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=MAX_TICKET_CHARACTERS,
                pattern=_PRINTABLE,
                description="The helpdesk ticket.",
                examples=["INC-20261129-0042"],
            ),
        ]
        | None
    ) = None


class LockoutState(msgspec.Struct, rename="camel"):
    failures: Annotated[int, msgspec.Meta(description="Consecutive failed checks counted.")]
    locked_until: datetime | None


class RecoveryCodeState(msgspec.Struct, rename="camel"):
    remaining: int
    generated_at: datetime | None


class UserFactorsResponse(msgspec.Struct, rename="camel"):
    """A customer's second factor as the helpdesk sees it: metadata only."""

    user_id: str
    authenticators: list[AuthenticatorResponse]
    lockout: LockoutState
    recovery_codes: RecoveryCodeState


class ResetResponse(msgspec.Struct, rename="camel"):
    revoked: int
    pending_cancelled: int
    recovery_codes_voided: int


class UnlockResponse(msgspec.Struct, rename="camel"):
    lifted: Annotated[
        bool, msgspec.Meta(description="False when there was no failure or block to lift.")
    ]


class AuditEventResponse(msgspec.Struct, rename="camel"):
    """One event of the trail. ``actor`` is the agent, or the user for their own actions; after an
    erasure ``userId`` (and ``actor``) hold the user's pseudonym."""

    id: int
    action: str
    user_id: str
    actor: str
    enrollment_id: str | None
    occurred_at: datetime
    request_id: str
    client_address: str | None
    user_agent: str | None
    detail: str | None
    reason: str | None
    ticket: str | None


class AuditPageResponse(msgspec.Struct, rename="camel"):
    events: list[AuditEventResponse]
    cursor: Annotated[
        str | None,
        msgspec.Meta(description="Pass as ?cursor= for the next page; null on the last page."),
    ]
