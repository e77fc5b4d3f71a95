"""The reference enrollment page, ``/ui/enroll`` (on with ``MFA_UI_ENABLED``).

Static files shipped in the package (``static/enroll-ui/``), no CDN. Every answer under ``/ui``
carries a strict Content-Security-Policy: scripts, styles and requests to the service only, no inline
script, images from the service or ``data:`` (the QR code), never framed (``page_policies``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from litestar import Router, get
from litestar.response import File
from litestar.static_files import create_static_files_router

from entrypoints.http.page_policies import not_found_as_problem
from entrypoints.http.static_files import LocalFiles

PAGES: Final = Path(__file__).parent / "static" / "enroll-ui"
UI_PATH: Final = "/ui"


@get("/enroll", include_in_schema=False, sync_to_thread=False)
def enroll_page() -> File:
    return File(PAGES / "enroll.html", content_disposition_type="inline", media_type="text/html")


def reference_ui_router() -> Router:
    """``/ui/enroll`` and its assets under ``/ui/assets``."""
    return Router(
        UI_PATH,
        route_handlers=[
            enroll_page,
            create_static_files_router(
                path="/assets", directories=[PAGES], file_system=LocalFiles()
            ),
        ],
        include_in_schema=False,
        after_request=not_found_as_problem,
    )
