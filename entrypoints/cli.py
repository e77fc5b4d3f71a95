"""The ``mfa-service`` command: serve, migrate, and the development profile's token issuer."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import click
import uvicorn

from entrypoints.composition import development_issuer, migrate, purge_expired
from entrypoints.logging_setup import configure_logging
from entrypoints.settings import Settings, SettingsError, is_loopback


def _settings() -> Settings:
    try:
        return Settings.from_environment(os.environ)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@click.group()
def main() -> None:
    """Authenticator-app (TOTP) second factor service. Configured by MFA_* environment variables."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
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
    uvicorn.run(
        "entrypoints.asgi:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )


@main.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema (MFA_DATABASE_URL)."""
    settings = _settings()
    configure_logging(settings.log_level)
    asyncio.run(migrate(settings))
    click.echo("database schema is up to date", err=True)


@main.command("purge-expired")
def purge_expired_command() -> None:
    """Delete pending enrollments that expired unconfirmed, with their ciphertexts."""
    settings = _settings()
    configure_logging(settings.log_level)
    removed = asyncio.run(purge_expired(settings))
    click.echo(f"removed {removed} expired pending enrollment(s)", err=True)


@main.command("dev-token")
@click.option("--sub", "subject", required=True, help="The user the token names.")
@click.option("--ttl", default=900, show_default=True, type=click.IntRange(1, 86400))
@click.option("--auth-time", type=int, help="When the user authenticated (epoch seconds).")
@click.option("--amr", multiple=True, help="An authentication method reference; repeatable.")
@click.option("--name", "display_name", help="The account name shown in authenticator apps.")
def dev_token(
    subject: str, ttl: int, auth_time: int | None, amr: tuple[str, ...], display_name: str | None
) -> None:
    """Print an access token from the development issuer (development profile only)."""
    settings = _settings()
    if not settings.is_development or not settings.uses_development_issuer:
        raise click.ClickException(
            "dev-token works only in the development profile with its own issuer"
        )
    now = int(time.time())
    extra = {settings.account_name_claim: display_name} if display_name else None
    token = development_issuer(settings).mint(
        subject, ttl_seconds=ttl, now=now, auth_time=auth_time, amr=amr or None, extra_claims=extra
    )
    sys.stdout.write(token + "\n")
