"""Issuing a new set of recovery codes inside a caller's transaction."""

from __future__ import annotations

import secrets
from datetime import datetime

from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.unit_of_work import UnitOfWork
from domain.recovery_codes import CODES_PER_SET, format_recovery_code, hash_recovery_code


async def issue_recovery_codes(
    uow: UnitOfWork, user_id: str, now: datetime, context: RequestContext
) -> list[str]:
    """A new set of codes from a CSPRNG. Only their hashes are stored, replacing the user's earlier
    set; the codes are returned to be shown once."""
    codes = [format_recovery_code(secrets.token_bytes(10)) for _ in range(CODES_PER_SET)]
    await uow.recovery_codes.replace(
        user_id, [hash_recovery_code(user_id, code) for code in codes], now
    )
    await uow.audit.append(
        AuditEvent(AuditAction.RECOVERY_CODES_GENERATED, user_id, None, now, context)
    )
    return codes
