"""``mfa-service admin …``: the helpdesk's operations for an operator at the console (break-glass),
on the configured database, audited with the actor ``cli:<os user>``."""

from __future__ import annotations

import asyncio
import getpass
import os
import secrets
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import click
import msgspec

from application.agent import AdminNote, Agent
from application.errors import ApplicationError
from application.ports.audit import AuditAction, AuditQuery, RequestContext
from entrypoints.admin_services import AdminServices
from entrypoints.audit_cursor import decode_cursor, encode_cursor
from entrypoints.composition.jobs import console_admin
from entrypoints.http.admin_answers import audit_event_response, user_factors_response
from entrypoints.http.admin_schemas import (
    AuditPageResponse,
    ResetResponse,
)
from entrypoints.logging_setup import configure_logging
from entrypoints.settings import Settings, SettingsError

T = TypeVar("T")

reason_option = click.option("--reason", required=True, help="Why (goes to the audit trail).")
ticket_option = click.option("--ticket", help="The helpdesk ticket (goes to the audit trail).")


def console_agent() -> Agent:
    """The operator, as the audit trail names them."""
    return Agent(f"cli:{getpass.getuser()}")


def console_context() -> RequestContext:
    return RequestContext(request_id=f"cli-{secrets.token_hex(8)}", user_agent="mfa-service admin")


def _run(job: Callable[[AdminServices], Awaitable[T]]) -> T:
    try:
        settings = Settings.from_environment(os.environ)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    configure_logging(settings.log_level)

    async def run() -> T:
        async with console_admin(settings) as admin:
            return await job(admin)

    try:
        return asyncio.run(run())
    except ApplicationError as error:
        raise click.ClickException(f"{type(error).__name__}: {error}") from None


def _echo(struct: msgspec.Struct) -> None:
    click.echo(msgspec.json.encode(struct).decode())


def _note(reason: str, ticket: str | None) -> AdminNote:
    try:
        return AdminNote(reason, ticket)
    except ApplicationError as error:
        raise click.BadParameter(str(error)) from None


@click.group()
def admin() -> None:
    """Act on a customer's second factor from the console (break-glass; audited as cli:<user>)."""


@admin.command("list")
@click.argument("user_id")
def list_command(user_id: str) -> None:
    """Show USER_ID's authenticators, lockout state and recovery codes left (JSON)."""
    factors = _run(lambda a: a.show_user_factors(console_agent(), user_id, console_context()))
    _echo(user_factors_response(user_id, factors))


@admin.command("revoke")
@click.argument("user_id")
@click.argument("enrollment_id", type=click.UUID)
@reason_option
@ticket_option
def revoke_command(user_id: str, enrollment_id: uuid.UUID, reason: str, ticket: str | None) -> None:
    """Revoke (or cancel, if pending) one of USER_ID's authenticators; the customer is told."""
    note = _note(reason, ticket)
    _run(
        lambda a: a.revoke_authenticator(
            console_agent(), user_id, enrollment_id, note, console_context()
        )
    )
    click.echo(f"revoked {enrollment_id}", err=True)


@admin.command("reset")
@click.argument("user_id")
@reason_option
@ticket_option
def reset_command(user_id: str, reason: str, ticket: str | None) -> None:
    """Revoke all of USER_ID's authenticators, void their recovery codes, cancel a pending one."""
    note = _note(reason, ticket)
    report = _run(lambda a: a.reset_user_factors(console_agent(), user_id, note, console_context()))
    _echo(
        ResetResponse(
            revoked=report.revoked,
            pending_cancelled=report.pending_cancelled,
            recovery_codes_voided=report.recovery_codes_voided,
        )
    )


@admin.command("unlock")
@click.argument("user_id")
@reason_option
@ticket_option
def unlock_command(user_id: str, reason: str, ticket: str | None) -> None:
    """Lift USER_ID's lockout (failed attempts and block)."""
    note = _note(reason, ticket)
    lifted = _run(lambda a: a.unlock_user(console_agent(), user_id, note, console_context()))
    click.echo("lockout lifted" if lifted else "nothing to lift", err=True)


@admin.command("erase")
@click.argument("user_id")
@reason_option
@ticket_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_command(user_id: str, reason: str, ticket: str | None, yes: bool) -> None:
    """Erase USER_ID (GDPR art. 17): all their data; audit events kept under a pseudonym."""
    note = _note(reason, ticket)
    if not yes:
        click.confirm(
            f"erase every trace of {user_id!r} but pseudonymised audit events?", abort=True
        )
    report = _run(lambda a: a.erase_user(console_agent(), user_id, note, console_context()))
    click.echo(msgspec.json.encode(report).decode())


@admin.command("audit")
@click.option("--user", "user_id", help="Events of this user.")
@click.option("--action", type=click.Choice([a.value for a in AuditAction]))
@click.option("--actor", help="Events by this agent (or user, for their own actions).")
@click.option("--since", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z"]), help="e.g. …T12:00:00+00:00")
@click.option("--until", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z"]))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 200))
@click.option("--cursor", help="The cursor a previous page printed.")
@click.option("--export", is_flag=True, help="Every matching event as JSON Lines, streamed.")
def audit_command(
    user_id: str | None,
    action: str | None,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
    export: bool,
) -> None:
    """Read the audit trail, newest first: one page (JSON, with the next page's cursor), or
    everything with --export."""
    query = AuditQuery(
        user_id=user_id,
        action=AuditAction(action) if action else None,
        actor=actor,
        since=since,
        until=until,
    )
    if export:
        _run(lambda a: _export(a, query))
        return

    async def page(a: AdminServices) -> AuditPageResponse:
        after = decode_cursor(cursor) if cursor else None
        found = await a.read_audit_trail(console_agent(), query, after, limit, console_context())
        return AuditPageResponse(
            events=[audit_event_response(recorded) for recorded in found.events],
            cursor=encode_cursor(found.next) if found.next is not None else None,
        )

    _echo(_run(page))


async def _export(admin: AdminServices, query: AuditQuery) -> None:
    encoder = msgspec.json.Encoder()
    batches = await admin.export_audit_trail(console_agent(), query, console_context())
    async for batch in batches:
        for recorded in batch:
            sys.stdout.buffer.write(encoder.encode(audit_event_response(recorded)) + b"\n")
        sys.stdout.buffer.flush()
