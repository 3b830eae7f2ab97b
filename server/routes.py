"""Every route handler of the API, one line per area."""

from __future__ import annotations

from typing import Any


def route_handlers() -> list[Any]:
    """The controllers and routers that ``create_app`` mounts."""
    from server.http.health import health

    handlers: list[Any] = [health]
    return handlers
