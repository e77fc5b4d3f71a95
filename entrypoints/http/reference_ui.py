"""The reference enrollment page, ``/ui/enroll`` (on with ``MFA_UI_ENABLED``).

Static files shipped in the package (``static/enroll-ui/``), no CDN. Every answer under ``/ui``
carries a strict Content-Security-Policy: scripts, styles and requests to the service only, no inline
script, images from the service or ``data:`` (the QR code), never framed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from litestar import Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.response import File
from litestar.static_files import create_static_files_router

PAGES: Final = Path(__file__).parent / "static" / "enroll-ui"
UI_PATH: Final = "/ui"

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@get("/enroll", include_in_schema=False, sync_to_thread=False)
def enroll_page() -> File:
    return File(PAGES / "enroll.html", content_disposition_type="inline", media_type="text/html")


def reference_ui_router() -> Router:
    """``/ui/enroll`` and its assets under ``/ui/assets``."""
    return Router(
        UI_PATH,
        route_handlers=[
            enroll_page,
            create_static_files_router(path="/assets", directories=[PAGES]),
        ],
        include_in_schema=False,
        after_request=_with_csp,
    )


async def _with_csp(response: Response[Any]) -> Response[Any]:
    if response.status_code == 404:
        raise NotFoundException()  # the error table answers with problem+json
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
