"""Role guards for route handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.errors import Forbidden
from server.sync.registry import Principal

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def require_roles(*roles: str) -> Guard:
    """A guard letting through only users whose role is one of ``roles``."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = connection.user
        if not isinstance(principal, Principal) or principal.role not in roles:
            raise Forbidden(f"requires role {' or '.join(roles)}")

    return guard


managers_only = require_roles("manager", "admin")
admins_only = require_roles("admin")
