"""``create_app(settings)``: the one place that wires the server together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from server import cache_epochs
from server.auth.middleware import PUBLIC_PATHS, TokenAuthMiddleware
from server.auth.token_cache import TokenCache
from server.db import Database, create_engine
from server.file_store import LocalFileStore
from server.http import sync_fast
from server.http.compression import compression_config
from server.http.concurrency import add_etag
from server.http.docs import docs_static_router, render_plugins
from server.http.errors import EXCEPTION_HANDLERS
from server.http.inputs import OutpostRequest, check_query
from server.http.openapi import complete_document
from server.notifications.lifespan import run_scheduler
from server.routes import route_handlers
from server.settings import Settings
from server.sfa.registration import register_entities
from server.sync.conflicts import register_engine_entities
from server.sync.engine import SyncEngine
from server.sync.registry import Principal, SyncRegistry
from server.sync.writer import ChangeWriter


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The authenticated caller (set by the auth middleware)."""
    return request.user  # type: ignore[no-any-return]


def build_registry(settings: Settings | None = None) -> SyncRegistry:
    """The sync registry with every SFA entity registered (their rules configured by
    ``settings``, the defaults without)."""
    registry = SyncRegistry()
    register_entities(registry, settings)
    return registry


def build_writer(settings: Settings | None = None) -> ChangeWriter:
    """The change writer of work run outside the app (CLI commands, the scheduler process,
    benchmarks): every SFA entity and the engine's own, as the app registers them."""
    registry = build_registry(settings)
    register_engine_entities(registry)
    return ChangeWriter(registry)


def create_app(
    settings: Settings,
    *,
    db: Database | None = None,
    check_schema: bool = True,
    registry: SyncRegistry | None = None,
) -> Litestar:
    """Build the Litestar application for ``settings``."""
    database = db or Database(
        create_engine(
            settings.database_url,
            idle_in_transaction_timeout_seconds=settings.idle_in_transaction_timeout_seconds,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
    )
    cache_epochs.install()
    epochs = cache_epochs.EpochClock(database, settings.cache_epoch_interval_seconds)
    tokens = TokenCache(settings.token_cache_size, settings.token_cache_seconds)
    registry = registry or build_registry(settings)
    register_engine_entities(registry)
    writer = ChangeWriter(registry)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            if check_schema:
                from server.schema import ensure_migrated

                await ensure_migrated(database)  # refuse to serve an unmigrated database
            complete_document(app.openapi_schema)
            async with run_scheduler(database, settings, writer):  # OUTPOST_SCHEDULER_ENABLED
                yield
        finally:
            if db is None:
                await database.dispose()

    app = Litestar(
        route_handlers=[*route_handlers(), docs_static_router()],
        lifespan=[lifespan],
        state=State({"settings": settings, "db": database, "registry": registry, "writer": writer,
               "sync": SyncEngine(database, settings, registry, writer, epochs),
               "epochs": epochs, "tokens": tokens,
               "files": LocalFileStore(settings.files_directory)}),
        dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        after_request=add_etag,
        before_request=check_query,
        request_class=OutpostRequest,
        middleware=[DefineMiddleware(TokenAuthMiddleware, exclude=PUBLIC_PATHS)],
        request_max_body_size=settings.max_body_bytes,
        compression_config=compression_config(settings),
        openapi_config=OpenAPIConfig(
            title="Outpost",
            version="0.1.0",
            description="Offline-first sales-force automation backend",
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer")
                }
            ),
            security=[{"BearerToken": []}],
            render_plugins=render_plugins(),
        ),
        debug=settings.debug,
    )
    if settings.sync_fast_path:
        sync_fast.install(app)
    return app
