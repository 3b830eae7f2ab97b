"""The sync fast path: ``POST /sync/pull`` and ``POST /sync/push`` served in front of the router.

A device's no-op pull is the most frequent request of a fleet, and most of its server CPU went
on Litestar's per-request work around a handler that needs almost none of it: the
authentication middleware's connection object, the kwargs model and the ``principal``
dependency, ``before_request`` (query check) and ``after_request`` (ETag) hooks, the handler's
response handling (docs/benchmarks.md, "Fleet (issue 17)"). This ASGI app sits between the
app's exception handler and its router and serves exactly those two routes itself:

- it authenticates with the same function as ``TokenAuthMiddleware`` (the same token cache);
- it reads the body through Litestar's ``Request`` (the same body limit and 413), decodes,
  calls the service and encodes with the same functions as the regular handlers
  (``server.sync.endpoints``), and sends the same ``ASGIResponse``;
- it keeps the rest of the route's stack as Litestar builds it: the route's exception handlers
  (auth errors rendered outside compression, handler errors inside, as on the regular route)
  and the app's compression middleware;
- anything it does not handle identically goes to the router: another method or path, a query
  string (the regular path answers it 422 ``unknown_field``), a ``root_path``, a host header
  the router would refuse.

The regular handlers stay registered, so the OpenAPI document is unchanged, and
``OUTPOST_SYNC_FAST_PATH=false`` turns this off. The access log, admission control and the
graceful shutdown wrap the app outside, so they see both paths alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from litestar import Litestar
from litestar._asgi.utils import is_valid_host, wrap_in_exception_handler
from litestar.response.base import ASGIResponse
from litestar.utils.scope.state import ScopeState

from server.auth.middleware import authenticate
from server.sync.endpoints import Serve, pull_answer, push_answer

ROUTES: dict[str, Serve] = {"/sync/pull": pull_answer, "/sync/push": push_answer}


@dataclass(frozen=True, slots=True)
class _Route:
    handler: Any  # the Litestar route handler (its body limit, its exception handlers)
    template: str
    exception_handlers: Any
    app: Any  # compression (if on) around the exception handler around the endpoint


class SyncFastPath:
    """ASGI app: the two sync routes served directly, everything else by ``router``."""

    def __init__(self, app: Litestar, router: Any) -> None:
        self.router = router
        self.state = app.state
        self.request_class = app.request_class
        self.routes: dict[str, _Route] = {}
        for path, serve in ROUTES.items():
            _, handler, _, _, template = app.asgi_router.handle_routing(path=path, method="POST")
            stack: Any = wrap_in_exception_handler(app=partial(self._endpoint, serve))
            config = app.compression_config
            if config is not None:
                stack = config.middleware_class(app=stack, config=config)
            self.routes[path] = _Route(
                handler, template, handler.resolve_exception_handlers(), stack
            )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if (
            route is None
            or scope["method"] != "POST"
            or scope.get("query_string")
            or scope.get("root_path")
        ):
            await self.router(scope, receive, send)
            return
        authorization = ""
        for name, value in scope["headers"]:
            if name == b"host" and not is_valid_host(value):
                await self.router(scope, receive, send)  # the router refuses it
                return
            if name == b"authorization" and not authorization:
                authorization = value.decode("latin-1")
        # what the router sets for the route, so errors render as on the regular path
        ScopeState.from_scope(scope).exception_handlers = route.exception_handlers
        scope["route_handler"] = route.handler
        scope["path_template"] = route.template
        scope.setdefault("path_params", {})
        principal, token_id = await authenticate(self.state, authorization)
        scope["user"], scope["auth"] = principal, token_id
        await route.app(scope, receive, send)

    async def _endpoint(self, serve: Serve, scope: Any, receive: Any, send: Any) -> None:
        request = self.request_class(scope, receive, send)
        headers = request.headers
        body, media_type = await serve(
            self.state.sync,
            scope["user"],
            await request.body(),
            headers.get("content-type"),
            headers.get("accept"),
        )
        await ASGIResponse(body=body, media_type=media_type, status_code=200)(
            scope, receive, send
        )


def install(app: Litestar) -> None:
    """Put the fast path in front of ``app``'s router, inside its exception handler (as
    ``Litestar`` builds ``asgi_handler`` when no CORS or OpenTelemetry wraps the router)."""
    if app.cors_config is not None or any(
        type(plugin).__name__ == "OpenTelemetryPlugin" for plugin in app.plugins
    ):
        return
    app.asgi_handler = wrap_in_exception_handler(app=SyncFastPath(app, app.asgi_router))

