"""The Litestar application: routes, middleware, error handling and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from entrypoints.http.allow_header import allow_every_method
from entrypoints.http.authentication import bearer_authentication
from entrypoints.http.client_disconnect import client_disconnect_middleware
from entrypoints.http.controllers.authenticators import (
    get_authenticator,
    list_authenticators,
    remove_authenticator,
    rename_authenticator,
)
from entrypoints.http.controllers.enrollments import start_enrollment
from entrypoints.http.controllers.health import live, ready
from entrypoints.http.controllers.recovery_codes import (
    recovery_code_status,
    regenerate_recovery_codes,
)
from entrypoints.http.controllers.verification import confirm_enrollment, verify_code
from entrypoints.http.load_shedding import concurrency_limit
from entrypoints.http.metrics import metrics, record_request
from entrypoints.http.problems import EXCEPTION_HANDLERS
from entrypoints.http.response_headers import add_response_headers, request_timing_middleware

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


@dataclass(frozen=True, slots=True)
class HttpOptions:
    max_body_bytes: int = 4096
    cors_origins: Sequence[str] = ()
    max_concurrent_requests: int = 0
    """Per worker; past it a request is answered 503 with Retry-After at once (0: no limit)."""


def build_http_app(options: HttpOptions, lifespan: Lifespan) -> Litestar:
    """The app. ``lifespan`` builds the services (see ``entrypoints.composition``)."""
    return Litestar(
        route_handlers=[
            start_enrollment,
            confirm_enrollment,
            verify_code,
            regenerate_recovery_codes,
            recovery_code_status,
            list_authenticators,
            get_authenticator,
            rename_authenticator,
            remove_authenticator,
            live,
            ready,
            metrics,
        ],
        lifespan=[lifespan],
        middleware=[
            request_timing_middleware,
            client_disconnect_middleware,
            concurrency_limit(options.max_concurrent_requests),
            bearer_authentication(),
        ],
        before_send=[allow_every_method, add_response_headers, record_request],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=options.max_body_bytes,
        cors_config=CORSConfig(allow_origins=list(options.cors_origins))
        if options.cors_origins
        else None,
        openapi_config=OpenAPIConfig(
            title="MFA service",
            version="1.0.0",
            description="Authenticator-app (TOTP) second factor for the bank's customers.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
        ),
        logging_config=None,
        debug=False,
    )
