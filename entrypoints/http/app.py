"""The Litestar application: routes, middleware, error handling and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from opentelemetry.trace import TracerProvider

from entrypoints.http.access_log import log_access
from entrypoints.http.admin_access import ADMIN_SCOPE_OPT, ADMIN_TOKEN, require_admin_scope
from entrypoints.http.allow_header import allow_every_method
from entrypoints.http.api_viewer import SelfHostedSwaggerUi, schema_router
from entrypoints.http.authentication import bearer_authentication
from entrypoints.http.client_disconnect import client_disconnect_middleware
from entrypoints.http.controllers.admin_audit import AdminAuditController
from entrypoints.http.controllers.admin_users import AdminUserController
from entrypoints.http.controllers.health import HealthController
from entrypoints.http.controllers.mfa_secrets import MfaSecretController
from entrypoints.http.controllers.recovery_codes import RecoveryCodeController
from entrypoints.http.controllers.verification import VerificationController
from entrypoints.http.cors import cors_config, refused_preflight_as_problem
from entrypoints.http.dependencies import IDEMPOTENCY
from entrypoints.http.metrics import metrics, record_request
from entrypoints.http.page_policies import add_page_policies
from entrypoints.http.problems import EXCEPTION_HANDLERS
from entrypoints.http.reference_ui import reference_ui_router
from entrypoints.http.request_checks import check_request
from entrypoints.http.response_headers import add_response_headers, request_timing_middleware
from entrypoints.http.tracing import name_server_span, tracing_plugin
from entrypoints.version import package_version

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


@dataclass(frozen=True, slots=True)
class HttpOptions:
    admin_scope: str
    """The scope a token needs for the /admin routes (``MFA_ADMIN_SCOPE``)."""
    max_body_bytes: int = 4096
    cors_origins: Sequence[str] = ()
    ui_enabled: bool = False
    tracer_provider: TracerProvider | None = None
    """None: OpenTelemetry's global provider."""


def admin_router(admin_scope: str) -> Router:
    """The helpdesk's and compliance's routes, under /admin, for tokens with ``admin_scope``."""
    return Router(
        "/admin",
        route_handlers=[AdminUserController, AdminAuditController],
        guards=[require_admin_scope],
        opt={ADMIN_SCOPE_OPT: admin_scope},
        tags=["Admin"],
        security=ADMIN_TOKEN,
    )


def build_http_app(options: HttpOptions, lifespan: Lifespan) -> Litestar:
    """The app. ``lifespan`` builds the services (see ``entrypoints.composition``)."""
    return Litestar(
        route_handlers=[
            MfaSecretController,
            RecoveryCodeController,
            VerificationController,
            HealthController,
            metrics,
            admin_router(options.admin_scope),
            *([reference_ui_router()] if options.ui_enabled else []),
        ],
        lifespan=[lifespan],
        dependencies=IDEMPOTENCY,
        before_request=check_request,
        middleware=[
            request_timing_middleware,
            client_disconnect_middleware,
            bearer_authentication(),
        ],
        before_send=[
            refused_preflight_as_problem,
            allow_every_method,
            add_response_headers,
            add_page_policies,
            name_server_span,
            record_request,
            log_access,
        ],
        plugins=[tracing_plugin(options.tracer_provider)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=options.max_body_bytes,
        cors_config=cors_config(options.cors_origins),
        openapi_config=OpenAPIConfig(
            title="MFA service",
            version=package_version(),
            description="Authenticator-app (TOTP) second factor for the bank's customers.",
            path="/schema",
            openapi_router=schema_router(),
            render_plugins=[SelfHostedSwaggerUi()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http", scheme="bearer", bearer_format="JWT"
                    ),
                    "AdminBearerToken": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        bearer_format="JWT",
                        description="A helpdesk agent's access token: it carries the admin scope "
                        "(MFA_ADMIN_SCOPE), and for changes shows the agent's own second factor "
                        "used recently (auth_time, amr or acr; RFC 9470).",
                    ),
                }
            ),
        ),
        logging_config=None,
        debug=False,
    )
