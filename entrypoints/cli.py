"""The ``mfa-service`` command: serve, migrate, and the development profile's token issuer."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import click
import uvicorn

from application.use_cases.rewrap_secrets import RewrapSummary
from entrypoints import graceful_server
from entrypoints.admin_cli import admin
from entrypoints.composition.adapters import development_issuer
from entrypoints.composition.jobs import (
    check_startup,
    migrate,
    purge_expired,
    rewrap_job,
    set_up_vault,
)
from entrypoints.http_protocol import BoundedHttpToolsProtocol
from entrypoints.logging_setup import configure_logging
from entrypoints.metrics_directory import shared_metrics
from entrypoints.settings import Settings, SettingsError, is_loopback
from entrypoints.startup_errors import StartupError
from entrypoints.version import PACKAGE


def _settings(
    read: Callable[[Mapping[str, str]], Settings] = Settings.from_environment,
) -> Settings:
    try:
        return read(os.environ)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@contextmanager
def _one_line_errors(settings: Settings) -> Iterator[None]:
    """A dependency or setting that stops a command is one line (the traceback at DEBUG only)."""
    try:
        yield
    except StartupError as error:
        if settings.log_level == "DEBUG":
            logging.getLogger("mfa.cli").exception("cannot start")
        raise click.ClickException(f"cannot start: {error}") from None


@click.group()
@click.version_option(package_name=PACKAGE, prog_name=PACKAGE)
def main() -> None:
    """Authenticator-app (TOTP) second factor service. Configured by MFA_* environment variables."""


main.add_command(admin)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="MFA_HOST", show_envvar=True)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    envvar="MFA_PORT",
    show_envvar=True,
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="MFA_WORKERS",
    show_envvar=True,
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve HTTP with uvicorn (uvloop, httptools) in WORKERS processes."""
    settings = _settings()
    if settings.is_development and not is_loopback(host):
        raise click.ClickException(
            "the development profile listens on loopback only (its keys are generated locally); "
            "set MFA_ENV=production with the identity provider and Vault to listen on "
            f"{host}"
        )
    configure_logging(settings.log_level)
    with _one_line_errors(settings):
        asyncio.run(check_startup(settings))
    with shared_metrics(workers):
        config = uvicorn.Config(
            "entrypoints.asgi:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            http=BoundedHttpToolsProtocol,
            timeout_keep_alive=settings.keep_alive_seconds,
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,
            timeout_worker_healthcheck=30,
        )
        status = graceful_server.run(config, drain_seconds=settings.shutdown_drain_seconds)
    if status:
        raise SystemExit(status)


@main.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema (MFA_DATABASE_URL)."""
    settings = _settings(Settings.for_database)
    configure_logging(settings.log_level)
    with _one_line_errors(settings):
        asyncio.run(migrate(settings))
    click.echo("database schema is up to date", err=True)


@main.command("purge-expired")
def purge_expired_command() -> None:
    """Delete pending enrollments that expired unconfirmed, with their ciphertexts."""
    settings = _settings(Settings.for_database)
    configure_logging(settings.log_level)
    with _one_line_errors(settings):
        removed = asyncio.run(purge_expired(settings))
    click.echo(f"removed {removed} expired pending enrollment(s)", err=True)


@main.command("vault-setup")
def vault_setup_command() -> None:
    """Create the transit mount and key if missing, and print the policies to install.

    Run it once per environment with an operator's token (MFA_VAULT_TOKEN); the service itself
    then runs with a token that holds only the service policy printed here.
    """
    settings = _settings(Settings.for_vault)
    configure_logging(settings.log_level)
    with _one_line_errors(settings):
        report, service, rotation = set_up_vault(settings)
    click.echo(
        f"# transit mount {'created' if report.mount_created else 'present'}; key "
        f"{'created' if report.key_created else 'present'} "
        f"(aes256-gcm96, derived, not exportable), newest version {report.latest_version}",
        err=True,
    )
    click.echo("# policy for the service (encrypt and decrypt only, never create):")
    click.echo(service)
    click.echo("# policy for the rotation job (mfa-service rewrap):")
    click.echo(rotation)


@main.command("rewrap")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 1000))
def rewrap_command(batch_size: int) -> None:
    """Move every stored ciphertext to the newest key version, in batches; safe to rerun."""
    settings = _settings()
    configure_logging(settings.log_level)
    with _one_line_errors(settings):
        asyncio.run(_rewrap(settings, batch_size))


async def _rewrap(settings: Settings, batch_size: int) -> None:
    async with rewrap_job(settings) as (job, total):
        with click.progressbar(length=total, label="rewrapping", file=sys.stderr) as bar:
            seen = 0

            def advance(summary: RewrapSummary) -> None:
                nonlocal seen
                bar.update(summary.examined - seen)
                seen = summary.examined

            summary = await job(advance)
    click.echo(
        f"newest key version {summary.newest_version}: examined {summary.examined}, "
        f"rewrapped {summary.rewrapped}, already current {summary.already_current}, "
        f"unreadable {len(summary.unreadable)}, changed meanwhile {len(summary.changed_meanwhile)}"
    )
    for enrollment_id in summary.unreadable:
        click.echo(f"unreadable: {enrollment_id}", err=True)
    if summary.unreadable or summary.changed_meanwhile:
        raise SystemExit(1)


@main.command("dev-token")
@click.option("--sub", "subject", required=True, help="The user the token names.")
@click.option("--ttl", default=900, show_default=True, type=click.IntRange(1, 86400))
@click.option("--auth-time", type=int, help="When the user authenticated (epoch seconds).")
@click.option("--amr", multiple=True, help="An authentication method reference; repeatable.")
@click.option("--acr", help="The authentication context class reached.")
@click.option("--name", "display_name", help="The account name shown in authenticator apps.")
@click.option("--scope", help="Space-separated scopes, e.g. 'mfa-admin' for a helpdesk agent.")
def dev_token(
    subject: str,
    ttl: int,
    auth_time: int | None,
    amr: tuple[str, ...],
    acr: str | None,
    display_name: str | None,
    scope: str | None = None,
) -> None:
    """Print an access token from the development issuer (development profile only)."""
    settings = _settings()
    if not settings.is_development or not settings.uses_development_issuer:
        raise click.ClickException(
            "dev-token works only in the development profile with its own issuer"
        )
    now = int(time.time())
    extra: dict[str, str] = {}
    if display_name:
        extra[settings.account_name_claim] = display_name
    if acr:
        extra["acr"] = acr
    token = development_issuer(settings).mint(
        subject,
        ttl_seconds=ttl,
        now=now,
        auth_time=auth_time,
        amr=amr or None,
        scope=scope,
        extra_claims=extra or None,
    )
    sys.stdout.write(token + "\n")
