"""The OpenAPI viewer under ``/schema``, served by the service itself.

Swagger UI's assets are vendored from npm at a pinned version with their registry integrity
(``static/api-viewer/VERSION``, ``scripts/vendor-from-npm.sh``): no CDN, so the viewer works offline
and nothing outside the bank's network runs in it. Every answer under ``/schema`` carries a strict
Content-Security-Policy (scripts and styles from the service only, no inline script, no framing:
``page_policies``), and every 4xx there is problem+json like the rest of the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from litestar import Request, Router
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router

from entrypoints.http.page_policies import not_found_as_problem
from entrypoints.http.static_files import LocalFiles

ASSETS: Final = Path(__file__).parent / "static" / "api-viewer"
SCHEMA_PATH: Final = "/schema"
ASSETS_PATH: Final = "/viewer"


_PAGE: Final = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MFA service API</title>
<link rel="stylesheet" href="{SCHEMA_PATH}{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<main id="swagger-ui" data-openapi-url="{SCHEMA_PATH}/openapi.json"></main>
<script src="{SCHEMA_PATH}{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{SCHEMA_PATH}{ASSETS_PATH}/start.js"></script>
</body>
</html>
""".encode()


class SelfHostedSwaggerUi(OpenAPIRenderPlugin):
    """Swagger UI at ``/schema`` from the service's own copy of its assets."""

    def __init__(self) -> None:
        super().__init__(path="/swagger")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return _PAGE

    def receive_router(self, router: Router) -> None:
        router.register(
            create_static_files_router(
                path=ASSETS_PATH, directories=[ASSETS], file_system=LocalFiles()
            )
        )


def schema_router() -> Router:
    """The router Litestar fills with the viewer, the document and its not-found page."""
    return Router(
        SCHEMA_PATH,
        route_handlers=[],
        include_in_schema=False,
        after_request=not_found_as_problem,
    )
