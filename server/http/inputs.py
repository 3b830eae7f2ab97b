"""Input the database cannot store is refused where it is decoded, for every route.

``OutpostRequest`` (the app's request class) checks the decoded JSON or MessagePack body, and
``check_query`` (the app's ``before_request``) the query parameters, so a U+0000
answers 422 ``validation_error`` naming the field on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from protocol import errors as codes
from server.errors import ValidationFailed
from server.text import UNSTORABLE_MESSAGE, has_unstorable, unstorable_path


def _refuse(field: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field} {UNSTORABLE_MESSAGE}", field=field, code=codes.VALIDATION_ERROR
    )


class OutpostRequest(Request[Any, Any, Any]):
    """A request whose decoded body never holds text the database cannot store."""

    async def json(self) -> Any:
        """The JSON body, refused (422 with the field) when a string holds U+0000."""
        return _checked(await super().json())

    async def msgpack(self) -> Any:
        """The MessagePack body, refused like ``json``."""
        return _checked(await super().msgpack())


def _checked(value: Any) -> Any:
    path = unstorable_path(value)
    if path is not None:
        raise _refuse(path)
    return value


async def check_query(request: Request[Any, Any, Any]) -> None:
    """``before_request``: a query parameter the route does not declare answers 422
    ``unknown_field`` (as an unknown body field does), one holding U+0000 422
    ``validation_error``; both name the parameter."""
    declared = _declared_query(request)
    for name, value in request.query_params.multi_items():
        if has_unstorable(name) or has_unstorable(value):
            raise _refuse(name)
        if declared is not None and name not in declared:
            raise ValidationFailed(
                f"{name or 'an empty name'} is not a query parameter of this operation",
                field=name,
                code=codes.UNKNOWN_FIELD,
            )


def _declared_query(request: Request[Any, Any, Any]) -> frozenset[str] | None:
    """The query parameter names the route handler declares (None: it takes any)."""
    handler = request.route_handler
    known: dict[int, frozenset[str] | None] = request.app.state.setdefault("declared_query", {})
    if id(handler) not in known:  # worked out once per handler (they live as long as the app)
        model = handler.create_kwargs_model(path_parameters=dict.fromkeys(request.path_params))  # type: ignore[arg-type]
        takes_any = "query" in model.expected_reserved_kwargs
        names = frozenset(p.field_alias for p in model.expected_query_params)
        known[id(handler)] = None if takes_any else names
    return known[id(handler)]
