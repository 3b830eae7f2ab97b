"""The documentation pages load nothing from a CDN: every asset they reference is served here."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.settings import Settings

PAGES = ["/schema", "/schema/redoc", "/schema/swagger"]
_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.fixture
async def docs_client(tmp_path: Path) -> AsyncIterator[Any]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", secret_key="k")
    async with AsyncTestClient(app=create_app(settings, check_schema=False)) as client:
        yield client


@pytest.mark.parametrize("page", PAGES)
async def test_docs_pages_reference_only_local_assets_that_answer_200(docs_client, page) -> None:
    response = await docs_client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    references = _REFERENCE.findall(html)
    assert any(r.endswith(".js") for r in references), references
    for reference in references:
        assert reference.startswith("/") and not reference.startswith("//"), reference
        asset = await docs_client.get(reference)
        assert asset.status_code == 200, reference
        assert len(asset.content) > 0
    # nothing else in the page points outside (fonts, @import, fetches)
    assert not re.search(
        r"https?://(?!www\.w3\.org)", html.split("<script type='text/javascript'>")[0]
    )
    assert "fonts.googleapis" not in html and "cdn." not in html and "unpkg" not in html


async def test_only_offline_pages_are_served(docs_client) -> None:
    for page in ("/schema/rapidoc", "/schema/elements", "/schema/scalar"):
        assert (await docs_client.get(page)).status_code == 404, page
    assert (await docs_client.get("/schema/openapi.json")).status_code == 200
