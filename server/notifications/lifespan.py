"""The scheduler inside the app's lifespan, when ``OUTPOST_SCHEDULER_ENABLED`` is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server.db import Database
from server.settings import Settings
from server.sync.writer import ChangeWriter


@asynccontextmanager
async def run_scheduler(
    db: Database, settings: Settings, writer: ChangeWriter
) -> AsyncIterator[None]:
    """Start the scheduler's jobs on the app's event loop and stop them on shutdown."""
    if not settings.scheduler_enabled:
        yield
        return
    from server.notifications.scheduler import build_scheduler, stop_scheduler, workers_for

    workers = workers_for(db, settings, writer)
    scheduler = build_scheduler(workers)
    scheduler.start()
    try:
        yield
    finally:
        await stop_scheduler(scheduler, workers)
