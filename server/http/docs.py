"""The API documentation pages, served offline: Swagger UI and ReDoc from vendored assets.

Litestar's render plugins default to CDN URLs (and Google fonts); here every script, style and
favicon they reference is a local URL under ``/schema/static`` (``server/http/docs_assets``,
pinned copies with their licenses). Only pages that can be served offline are enabled.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    RedocRenderPlugin,
    SwaggerRenderPlugin,
    YamlRenderPlugin,
)
from litestar.static_files import create_static_files_router

ASSETS = Path(__file__).parent / "docs_assets"
STATIC_PATH = "/schema/static"
SWAGGER = f"{STATIC_PATH}/swagger-ui-5.35.0"
REDOC = f"{STATIC_PATH}/redoc-2.5.2"
FAVICON = f"<link rel='icon' type='image/png' href='{SWAGGER}/favicon-32x32.png'>"


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """ReDoc at ``/schema`` and ``/schema/redoc``, Swagger UI at ``/schema/swagger``, the JSON
    and YAML documents; all assets local."""
    plugins: list[OpenAPIRenderPlugin] = [
        RedocRenderPlugin(
            js_url=f"{REDOC}/redoc.standalone.js",
            google_fonts=False,
            favicon=FAVICON,
            path=["/", "/redoc"],
        ),
        SwaggerRenderPlugin(
            js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            css_url=f"{SWAGGER}/swagger-ui.css",
            standalone_preset_js_url=f"{SWAGGER}/swagger-ui-standalone-preset.js",
            favicon=FAVICON,
        ),
        JsonRenderPlugin(),
    ]
    if _has_yaml():
        plugins.append(YamlRenderPlugin())
    return plugins


def _has_yaml() -> bool:
    # the YAML document needs PyYAML, which is optional
    return importlib.util.find_spec("yaml") is not None


def docs_static_router() -> Any:
    """The router that serves the vendored assets (public, outside the OpenAPI document)."""
    return create_static_files_router(
        path=STATIC_PATH, directories=[ASSETS], include_in_schema=False, name="docs_assets"
    )
