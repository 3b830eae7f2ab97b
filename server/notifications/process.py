"""``outpost scheduler``: the scheduler as a process of its own, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from server.db import Database
from server.settings import Settings


async def serve_scheduler(
    db: Database, settings: Settings, announce: Callable[[str], None] = print
) -> None:
    """Run every job until a stop signal arrives, then stop and close the sender."""
    from server.app import build_writer
    from server.notifications.scheduler import JOBS, build_scheduler, stop_scheduler, workers_for

    workers = workers_for(db, settings, build_writer(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    scheduler = build_scheduler(workers)
    scheduler.start()
    jobs = ", ".join(
        f"{job.name} every {getattr(settings, job.interval_setting):g} s"
        for job in JOBS
        if getattr(settings, job.interval_setting) > 0
    )
    announce(f"scheduler {workers.name} running ({type(workers.sender).__name__}): {jobs}")
    try:
        await stop.wait()
    finally:
        await stop_scheduler(scheduler, workers)
        announce(f"scheduler {workers.name} stopped")
