"""The API viewer under /schema: the service's own pinned assets, a strict CSP, problem+json 4xx."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from entrypoints.http.api_viewer import ASSETS
from entrypoints.http.page_policies import SCHEMA_POLICY


@pytest.fixture
def adapter_set() -> str:
    """Embedded only: the viewer's pages and assets are the same on every adapter set."""
    return "embedded"


Client = httpx.AsyncClient


async def test_the_viewer_page_loads_only_the_services_own_assets(client: Client) -> None:
    response = await client.get("/schema")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == SCHEMA_POLICY
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert sources and all(source.startswith("/schema/") for source in sources), sources
    assert "<script>" not in response.text, "no inline script: the CSP would refuse it"
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert asset.headers["content-security-policy"] == SCHEMA_POLICY


async def test_the_viewers_assets_are_the_pinned_vendored_files(client: Client) -> None:
    assert (ASSETS / "VERSION").read_text().startswith("swagger-ui-dist@5.35.0\nsha512-")

    response = await client.get("/schema/viewer/swagger-ui-bundle.js")

    assert response.content == (ASSETS / "swagger-ui-bundle.js").read_bytes()
    assert "javascript" in response.headers["content-type"]


async def test_the_document_is_still_served_as_json(client: Client) -> None:
    response = await client.get("/schema/openapi.json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "MFA service"


@pytest.mark.parametrize(
    "path",
    [
        "/schema/nothing",
        "/schema/nothing.json",
        "/schema/viewer/nothing.js",
        "/schema/a/b",
        "/schema/viewer/start.js%00",
        "/schema/viewer/%00",
        "/schema/viewer/swagger-ui.css/x",
        "/schema/viewer/" + "a" * 300,
    ],
)
async def test_an_unknown_path_under_schema_is_a_problem_json_404(
    client: Client, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404
    assert response.headers["content-security-policy"] == SCHEMA_POLICY
    assert response.json()["detail"] == "Nothing matches the given URI"  # no disk path, no echo


async def test_a_wrong_method_under_schema_is_a_problem_json_405(client: Client) -> None:
    response = await client.post("/schema/openapi.json")

    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["content-security-policy"] == SCHEMA_POLICY


def test_the_vendored_files_carry_their_licence() -> None:
    assert {"LICENSE", "NOTICE", "VERSION"} <= {path.name for path in Path(ASSETS).iterdir()}
