"""Ports → use cases. Pure: it opens nothing and imports no adapter, so that tests wire the real
use cases on memory adapters exactly as the service wires them on its own."""

from __future__ import annotations

from dataclasses import dataclass

from application.agent import RecentSecondFactor
from application.event_records import EventRecords
from application.idempotency import IdempotencyGuard
from application.ports.check_reservations import CheckReservations
from application.ports.clock import Clock
from application.ports.code_acceptance import CodeAcceptance
from application.ports.enrollment_starts import EnrollmentStarts
from application.ports.notifications import Notifier
from application.ports.operational_metrics import OperationalMetrics
from application.ports.otp_generator import OtpGenerator
from application.ports.qr_renderer import QrRenderer
from application.ports.readiness import ReadinessProbe
from application.ports.secret_cipher import SecretCipher
from application.ports.token_verifier import TokenVerifier
from application.ports.unit_of_work import UnitOfWorkFactory
from application.recording_unit_of_work import RecordingUnitsOfWork
from application.step_up import StepUp, StepUpPolicy
from application.use_cases.attempts import AttemptGate
from application.use_cases.check_reservations import TransactionalCheckReservations
from application.use_cases.confirm_enrollment import ConfirmEnrollment
from application.use_cases.confirmation_standing import ConfirmationStanding
from application.use_cases.deliver_notifications import DeliverNotifications
from application.use_cases.list_authenticators import GetAuthenticator, ListAuthenticators
from application.use_cases.measure_outbox_backlog import MeasureOutboxBacklog
from application.use_cases.regenerate_recovery_codes import (
    GetRecoveryCodeStatus,
    RegenerateRecoveryCodes,
)
from application.use_cases.rename_authenticator import RenameAuthenticator
from application.use_cases.revoke_authenticator import RevokeAuthenticator
from application.use_cases.show_pending_enrollment import ShowPendingEnrollment
from application.use_cases.start_enrollment import EnrollmentSettings, StartEnrollment
from application.use_cases.verify_code import VerificationSettings, VerifyCode
from entrypoints.admin_services import AdminServices
from entrypoints.http.services import Services
from entrypoints.settings import Settings


@dataclass(frozen=True, slots=True)
class Ports:
    """The adapters the use cases run on, whichever technology they are."""

    unit_of_work: UnitOfWorkFactory
    cipher: SecretCipher
    generator: OtpGenerator
    qr_renderer: QrRenderer
    clock: Clock
    token_verifier: TokenVerifier
    metrics: OperationalMetrics
    pseudonym_key: bytes
    readiness_probes: tuple[ReadinessProbe, ...] = ()
    reservations: CheckReservations | None = None
    """The store's own one-statement check reservations (Postgres), else the units of work."""
    acceptance: CodeAcceptance | None = None
    """The store's own one-statement code acceptance (Postgres), else the units of work."""
    enrollment_starts: EnrollmentStarts | None = None
    """The store's own enrollment starts (Postgres), else the units of work."""


def wire_services(settings: Settings, ports: Ports) -> Services:
    """The use cases the HTTP app calls, with the settings' policies, on ``ports``."""
    unit_of_work = recording(ports)
    clock, cipher = ports.clock, ports.cipher
    attempts = AttemptGate(
        unit_of_work, ports.reservations or TransactionalCheckReservations(unit_of_work)
    )
    verify_code = VerifyCode(
        unit_of_work=unit_of_work,
        cipher=cipher,
        generator=ports.generator,
        clock=clock,
        settings=VerificationSettings(settings.totp_window, settings.totp_max_drift),
        attempts=attempts,
        acceptance=ports.acceptance,
    )
    step_up = StepUp(
        StepUpPolicy(
            max_age=settings.step_up_max_age,
            second_factor_acr=frozenset(settings.step_up_acr_values),
        ),
        verify_code,
    )
    return Services(
        start_enrollment=StartEnrollment(
            unit_of_work=unit_of_work,
            cipher=cipher,
            qr_renderer=ports.qr_renderer,
            clock=clock,
            settings=EnrollmentSettings(
                issuer=settings.issuer,
                policy=settings.totp_policy,
                pending_ttl=settings.pending_ttl,
                max_active=settings.max_authenticators,
                max_starts_per_hour=settings.enrollments_per_hour,
            ),
            step_up=step_up,
            starts=ports.enrollment_starts,
        ),
        confirm_enrollment=ConfirmEnrollment(
            unit_of_work=unit_of_work,
            cipher=cipher,
            generator=ports.generator,
            clock=clock,
            window=settings.totp_window,
            max_active=settings.max_authenticators,
            attempts=attempts,
        ),
        verify_code=verify_code,
        regenerate_recovery_codes=RegenerateRecoveryCodes(
            unit_of_work=unit_of_work, clock=clock, step_up=step_up
        ),
        recovery_code_status=GetRecoveryCodeStatus(unit_of_work=unit_of_work),
        list_authenticators=ListAuthenticators(unit_of_work=unit_of_work, clock=clock),
        get_authenticator=GetAuthenticator(unit_of_work=unit_of_work, clock=clock),
        rename_authenticator=RenameAuthenticator(unit_of_work=unit_of_work, clock=clock),
        revoke_authenticator=RevokeAuthenticator(
            unit_of_work=unit_of_work, clock=clock, step_up=step_up
        ),
        show_pending_enrollment=ShowPendingEnrollment(
            unit_of_work=unit_of_work,
            cipher=cipher,
            qr_renderer=ports.qr_renderer,
            clock=clock,
            issuer=settings.issuer,
            step_up=step_up,
        ),
        confirmation_standing=ConfirmationStanding(unit_of_work=unit_of_work, clock=clock),
        idempotency=IdempotencyGuard(unit_of_work=unit_of_work, clock=clock),
        token_verifier=ports.token_verifier,
        readiness_probes=ports.readiness_probes,
        admin=AdminServices.build(
            unit_of_work, clock, RecentSecondFactor(step_up), ports.pseudonym_key
        ),
    )


def recording(ports: Ports) -> RecordingUnitsOfWork:
    """The store's units of work, turning the aggregates' events into audit rows and notifications
    at commit, and counting them once committed."""
    return RecordingUnitsOfWork(ports.unit_of_work, EventRecords(ports.metrics))


@dataclass(frozen=True, slots=True)
class OutboxJobs:
    deliver: DeliverNotifications
    measure: MeasureOutboxBacklog


def wire_outbox(ports: Ports, notifier: Notifier) -> OutboxJobs:
    """The outbox's delivery and backlog measurement, on the same recording units of work."""
    unit_of_work = recording(ports)
    return OutboxJobs(
        deliver=DeliverNotifications(
            unit_of_work=unit_of_work, notifier=notifier, clock=ports.clock
        ),
        measure=MeasureOutboxBacklog(unit_of_work=unit_of_work, metrics=ports.metrics),
    )
