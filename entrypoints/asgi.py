"""The ASGI application factory the server calls in each worker process."""

from __future__ import annotations

import os

from litestar import Litestar

from entrypoints.composition import configure_tracing, create_app
from entrypoints.logging_setup import configure_logging
from entrypoints.settings import Settings


def app_from_environment() -> Litestar:
    """Reads the settings from ``MFA_*`` variables and builds the app (called by uvicorn)."""
    settings = Settings.from_environment(os.environ)
    configure_logging(settings.log_level, settings.log_user_key)
    configure_tracing(os.environ)
    return create_app(settings)
