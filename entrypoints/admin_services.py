"""The helpdesk's and compliance's use cases, as the HTTP admin routes and the CLI use them."""

from __future__ import annotations

from dataclasses import dataclass

from application.agent import AgentCheck
from application.ports.clock import Clock
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.use_cases.admin_revoke_authenticator import AdminRevokeAuthenticator
from application.use_cases.erase_user import EraseUser
from application.use_cases.export_audit_trail import ExportAuditTrail
from application.use_cases.read_audit_trail import ReadAuditTrail
from application.use_cases.reset_user_factors import ResetUserFactors
from application.use_cases.show_user_factors import ShowUserFactors
from application.use_cases.unlock_user import UnlockUser


@dataclass(frozen=True, slots=True)
class AdminServices:
    show_user_factors: ShowUserFactors
    revoke_authenticator: AdminRevokeAuthenticator
    reset_user_factors: ResetUserFactors
    unlock_user: UnlockUser
    erase_user: EraseUser
    read_audit_trail: ReadAuditTrail
    export_audit_trail: ExportAuditTrail

    @classmethod
    def build(
        cls,
        unit_of_work: RecordingUnitsOfWork,
        clock: Clock,
        check: AgentCheck,
        pseudonym_key: bytes,
    ) -> AdminServices:
        """The use cases on one store; ``check`` decides what an agent must show for changes."""
        store, now, key = unit_of_work, clock, pseudonym_key
        return cls(
            show_user_factors=ShowUserFactors(unit_of_work=store, clock=now),
            revoke_authenticator=AdminRevokeAuthenticator(
                unit_of_work=store, clock=now, check=check, pseudonym_key=key
            ),
            reset_user_factors=ResetUserFactors(
                unit_of_work=store, clock=now, check=check, pseudonym_key=key
            ),
            unlock_user=UnlockUser(unit_of_work=store, clock=now, check=check, pseudonym_key=key),
            erase_user=EraseUser(unit_of_work=store, clock=now, check=check, pseudonym_key=key),
            read_audit_trail=ReadAuditTrail(
                unit_of_work=unit_of_work, clock=clock, pseudonym_key=pseudonym_key
            ),
            export_audit_trail=ExportAuditTrail(
                unit_of_work=unit_of_work, clock=clock, pseudonym_key=pseudonym_key
            ),
        )
