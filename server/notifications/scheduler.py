"""The scheduler: APScheduler 3.11's ``AsyncIOScheduler`` with in-memory interval jobs.

APScheduler's job stores are not safe to share between processes, so every process that runs
the scheduler (``outpost serve`` with ``OUTPOST_SCHEDULER_ENABLED=true``, ``outpost
scheduler``) has its own in-memory jobs, and the work itself is claimed in the database:
the dispatcher claims outbox rows, the generator writes under the outbox's unique key, and
jobs that must run once per interval take a lease in ``scheduler_leases`` first.

A job is one line in ``JOBS``: its name, the setting holding its interval, whether it runs
under a lease, and a call into a service. Adding one (``outpost expire-quotes``'s service,
say) is one more line, plus its interval setting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from server.db import Database, new_id
from server.notifications.clock import Clock, clock_from_settings
from server.notifications.dispatch import Dispatcher
from server.notifications.models import JobLease
from server.notifications.reminders import ReminderGenerator
from server.notifications.senders import PushSender, sender_from_settings
from server.notifications.sources import build_sources
from server.settings import Settings
from server.sync.writer import ChangeWriter

log = logging.getLogger("outpost.scheduler")
# APScheduler logs every run of every job at INFO (the dispatch job runs every 5 s): that is
# noise in an operator's log; its warnings (missed runs) and errors still show, and each job's
# failures are logged by run_job
logging.getLogger("apscheduler").setLevel(logging.WARNING)


class Workers:
    """The services the jobs call, built once per scheduler process."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        writer: ChangeWriter,
        sender: PushSender,
        clock: Clock | None = None,
    ) -> None:
        self.db, self.settings, self.writer, self.sender = db, settings, writer, sender
        self.clock = clock or clock_from_settings(settings)
        self.name = f"scheduler-{new_id()}"
        self.running: set[asyncio.Task[Any]] = set()
        sources = build_sources(settings)
        self.dispatcher = Dispatcher(db, sender, settings, self.clock, sources, self.name)
        self.generator = ReminderGenerator(db, settings, self.clock, sources)

    async def prune(self) -> Any:
        """The change log's retention and expired login failures (``outpost prune``)."""
        from server.auth.repository import AuthRepository
        from server.sync.retention import prune_log

        now = self.clock.now()
        report = await prune_log(self.db, self.settings, now)
        window = dt.timedelta(seconds=self.settings.login_failure_window_seconds)
        async with self.db.transaction() as session:
            await AuthRepository(session).prune_login_failures(now - window)
        return report

    async def plan_visits(self) -> Any:
        """The coming fortnight's visits by value tier (``outpost plan-visits``)."""
        from server.sfa.visits.planning import VisitPlanner

        return await VisitPlanner(self.db, self.writer, self.settings).plan(14)

    async def expire_quotes(self) -> Any:
        """Quotes past their ``valid_until`` day set ``expired`` (``outpost expire-quotes``)."""
        from server.sfa.quotes.expiry import QuoteExpiryService

        return await QuoteExpiryService(self.db, self.writer, self.settings).expire_due(
            self.clock.now()
        )

    async def age_receivables(self) -> Any:
        """Receivables aged and arrears derived (``outpost age-receivables``)."""
        from server.sfa.collections.receivables import age_receivables

        return await age_receivables(self.db, self.writer, self.clock.now())

    async def close_commissions(self) -> Any:
        """The previous commission period closed once it has ended (``outpost
        close-commissions``; idempotent, so hourly runs close it once)."""
        from server.sfa.commissions.statement_service import close_period, previous_period

        now = self.clock.now()
        return await close_period(self.db, self.settings, previous_period(self.settings, now), now)

    async def take_lease(self, job: str, seconds: float) -> bool:
        """True when this process may run ``job`` now (no other holds it for this interval)."""
        now = self.clock.now()
        until = now + dt.timedelta(seconds=max(1.0, seconds * 0.9))
        async with self.db.transaction() as session:
            if await session.get(JobLease, job) is None:
                await session.execute(_insert_lease(session, job, now))
            taken = await session.execute(
                sa.update(JobLease)
                .where(JobLease.name == job, JobLease.lease_until <= now)
                .values(holder=self.name, lease_until=until)
            )
            return bool(taken.rowcount)  # type: ignore[attr-defined]


def _insert_lease(session: Any, job: str, now: dt.datetime) -> Any:
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(JobLease).values(name=job, holder="", lease_until=now).on_conflict_do_nothing()


class Job(NamedTuple):
    name: str
    interval_setting: str  # a Settings field, in seconds
    leased: bool  # run by one process per interval
    run: Callable[[Workers], Awaitable[Any]]


JOBS: tuple[Job, ...] = (
    Job("dispatch", "scheduler_dispatch_seconds", False, lambda w: w.dispatcher.drain()),
    Job("reminders", "scheduler_reminders_seconds", False, lambda w: w.generator.generate()),
    Job("prune", "scheduler_prune_seconds", True, lambda w: w.prune()),
    Job("plan_visits", "scheduler_plan_visits_seconds", True, lambda w: w.plan_visits()),
    Job("expire_quotes", "scheduler_expire_quotes_seconds", True, lambda w: w.expire_quotes()),
    Job("age_receivables", "scheduler_age_receivables_seconds", True,
        lambda w: w.age_receivables()),
    Job("close_commissions", "scheduler_close_commissions_seconds", True,
        lambda w: w.close_commissions()),
)


async def run_job(workers: Workers, job: Job) -> Any:
    """Run one job (under its lease when it has one); errors are logged, never raised, so
    the next run happens."""
    seconds = float(getattr(workers.settings, job.interval_setting))
    task = asyncio.current_task()
    if task is not None:
        workers.running.add(task)
    try:
        if job.leased and not await workers.take_lease(job.name, seconds):
            return None
        result = await job.run(workers)
        log.debug("job %s: %s", job.name, result)
        return result
    except Exception:
        log.exception("scheduler job %s failed", job.name)
        return None
    finally:
        if task is not None:
            workers.running.discard(task)


async def stop_scheduler(
    scheduler: AsyncIOScheduler, workers: Workers, timeout: float = 30
) -> None:
    """Stop starting jobs, let the running ones finish (a dispatch records what it sent), then
    shut down and close the sender. APScheduler's shutdown cancels running coroutine jobs, so
    it comes after the wait."""
    scheduler.pause()
    if workers.running:
        await asyncio.wait(set(workers.running), timeout=timeout)
    scheduler.shutdown(wait=False)
    await workers.sender.close()


def build_scheduler(workers: Workers, jobs: tuple[Job, ...] = JOBS) -> AsyncIOScheduler:
    """An ``AsyncIOScheduler`` with one in-memory interval job per entry of ``jobs`` (an
    interval of 0 or less leaves that job out); started by the caller on its event loop."""
    scheduler = AsyncIOScheduler(timezone=dt.UTC)
    for job in jobs:
        seconds = float(getattr(workers.settings, job.interval_setting))
        if seconds <= 0:
            continue
        scheduler.add_job(
            run_job,
            "interval",
            args=[workers, job],
            seconds=seconds,
            id=job.name,
            name=job.name,
            max_instances=1,
            coalesce=True,
            next_run_time=dt.datetime.now(dt.UTC),
        )
    return scheduler


def workers_for(db: Database, settings: Settings, writer: ChangeWriter) -> Workers:
    """The workers of a scheduler process, with the sender the settings choose."""
    return Workers(db, settings, writer, sender_from_settings(settings))
