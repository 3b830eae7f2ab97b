"""The scheduler: in the app's lifespan when enabled, and as ``outpost scheduler`` processes,
two of which against one database send every reminder exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.db import Database, create_engine
from server.notifications.models import Notification
from server.notifications.scheduler import JOBS, Job, Workers, build_scheduler
from server.notifications.senders import LoggingSender
from server.settings import Settings
from tests import fcm_standin as fcm
from tests.notifications_tools import add_event, add_user, fcm_env

FAST = {
    "OUTPOST_SCHEDULER_DISPATCH_SECONDS": "0.2",
    "OUTPOST_SCHEDULER_REMINDERS_SECONDS": "0.3",
    "OUTPOST_SCHEDULER_PRUNE_SECONDS": "0",  # off: not what these tests are about
    "OUTPOST_SCHEDULER_PLAN_VISITS_SECONDS": "0",
    "OUTPOST_NOTIFY_CLAIM_BATCH": "7",  # small claims, so the two processes interleave
    "OUTPOST_NOTIFY_HOURLY_BUDGET": "0",
    "OUTPOST_NOTIFY_QUIET_START_MINUTE": "0",  # no quiet hours, whatever time it is
    "OUTPOST_NOTIFY_QUIET_END_MINUTE": "0",
}


@pytest.fixture
def standin() -> Iterator[fcm.FcmStandIn]:
    with fcm.FcmStandIn() as server:
        yield server


async def wait_for(check: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.1)


async def test_the_app_runs_the_scheduler_in_its_lifespan_when_enabled(
    settings: Settings, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, [token] = await add_user(db)
    await add_event(db, rep, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30), [30])
    enabled = msgspec.convert(
        {
            **msgspec.to_builtins(settings),
            **{k[8:].lower(): v for k, v in FAST.items()},
            "scheduler_enabled": True,
            **{k[8:].lower(): v for k, v in fcm_env(standin).items()},
        },
        Settings,
        strict=False,
    )
    app = create_app(enabled, check_schema=False)
    async with AsyncTestClient(app=app):
        await wait_for(lambda: len(standin.delivered()) == 1)
    # leaving the lifespan let the running dispatch record what it sent
    assert [m["token"] for m in standin.delivered()] == [token.token]
    async with db.reading() as session:
        assert (await session.scalar(sa.select(Notification.status))) == "sent"


async def test_the_scheduler_is_off_unless_enabled(
    settings: Settings, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, _ = await add_user(db)
    await add_event(db, rep, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30), [30])
    off = msgspec.structs.replace(settings, fcm_endpoint=standin.url, fcm_project_id="p")
    async with AsyncTestClient(app=create_app(off, check_schema=False)):
        await asyncio.sleep(1.0)
    async with db.reading() as session:
        assert (await session.scalar(sa.select(sa.func.count()).select_from(Notification))) == 0


def test_every_interval_job_is_registered_with_its_setting(settings: Settings) -> None:
    workers = Workers.__new__(Workers)
    workers.settings = msgspec.structs.replace(settings, scheduler_prune_seconds=0)
    jobs = {job.id: job for job in build_scheduler(workers).get_jobs()}
    assert set(jobs) == {
        "dispatch", "reminders", "plan_visits", "expire_quotes", "age_receivables",
        "close_commissions",
    }  # 0: left out
    assert jobs["dispatch"].trigger.interval == dt.timedelta(
        seconds=settings.scheduler_dispatch_seconds
    )
    assert all(isinstance(job, Job) and hasattr(Settings, job.interval_setting) for job in JOBS)


async def test_the_daily_jobs_expire_quotes_and_age_receivables_once_per_interval(
    settings: Settings, db: Database
) -> None:
    """The scheduler runs the services of ``outpost expire-quotes`` and ``outpost
    age-receivables`` under a lease: the first process does the work, the second skips it."""
    from server.notifications.clock import FixedClock
    from server.notifications.scheduler import run_job
    from server.sfa.accounts.models import Account
    from tests.builders import make_user
    from tests.integration.sfa.quote_builders import quote_in, set_valid_until, statuses
    from tests.integration.test_cli_age_receivables import seed
    from tests.synctools import writer

    now = dt.datetime.now(dt.UTC)
    rep = await make_user(db, "rep")
    quote = await quote_in(db, rep, ("send",))
    await set_valid_until(db, quote["id"], now.date() - dt.timedelta(days=1))
    account = await seed(settings.database_url)  # an instalment overdue since 2026-05-01
    clock = FixedClock(max(now, dt.datetime(2026, 6, 1, tzinfo=dt.UTC)))
    one, two = (Workers(db, settings, writer(), LoggingSender(), clock) for _ in range(2))
    by_name = {job.name: job for job in JOBS}
    assert await run_job(one, by_name["expire_quotes"]) == 1
    assert await run_job(two, by_name["expire_quotes"]) is None  # leased: not run twice
    assert await statuses(db, quote["id"]) == ["expired"]
    aged = await run_job(one, by_name["age_receivables"])
    assert aged is not None and aged.in_arrears == 1
    assert await run_job(two, by_name["age_receivables"]) is None
    async with db.reading() as session:
        arrears = await session.scalar(sa.select(Account.arrears).where(Account.id == account))
    assert arrears == 80


async def test_a_leased_job_runs_in_one_process_per_interval(
    settings: Settings, db: Database
) -> None:
    from server.notifications.clock import FixedClock
    from tests.synctools import writer

    clock = FixedClock(dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    one, two = (Workers(db, settings, writer(), LoggingSender(), clock) for _ in range(2))
    assert await one.take_lease("prune", 60) is True
    assert await two.take_lease("prune", 60) is False
    clock.advance(seconds=53)  # 90 % of the interval
    assert await two.take_lease("prune", 60) is False
    clock.advance(seconds=1)
    assert await two.take_lease("prune", 60) is True


def outpost(env: dict[str, str], *args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def finish(process: subprocess.Popen[str]) -> str:
    """The process's output once it exited (killed when it does not stop within 120 s)."""
    try:
        return process.communicate(timeout=120)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0] + "\n(killed: did not stop within 120 s)"


async def test_two_scheduler_processes_send_each_reminder_exactly_once(
    database_url: str, tmp_path: Path, standin: fcm.FcmStandIn
) -> None:
    if database_url.startswith("postgresql"):
        from tests.integration.test_cli import wipe

        await wipe(database_url)  # the session's database is shared: start empty
    env = {**os.environ, "OUTPOST_DATABASE_URL": database_url, **FAST, **fcm_env(standin)}
    migrate = subprocess.run(
        [sys.executable, "-m", "server.cli", "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    db = Database(create_engine(database_url))
    now = dt.datetime.now(dt.UTC)
    expected = Counter()
    try:
        for _ in range(12):
            rep, [token] = await add_user(db)
            for minute in range(10):  # due within the coming 20 s
                event = await add_event(
                    db, rep, now + dt.timedelta(minutes=30 + minute), [30 + minute]
                )
                expected[(token.token, str(event))] += 1
        schedulers = [outpost(env, "scheduler", cwd=tmp_path) for _ in range(2)]
        try:
            await wait_for(lambda: len(standin.delivered()) >= len(expected), timeout=90)
            await asyncio.sleep(1.5)  # a duplicate, if any, would arrive meanwhile
        finally:
            for process in schedulers:
                process.send_signal(signal.SIGTERM)
            outputs = [finish(p) for p in schedulers]
        assert [p.returncode for p in schedulers] == [0, 0], outputs
        assert all("running" in out and "stopped" in out for out in outputs), outputs
        got = Counter((m["token"], m["data"]["record_id"]) for m in standin.delivered())
        assert got == expected  # every reminder once, none twice
        async with db.reading() as session:
            statuses = (
                await session.execute(
                    sa.select(Notification.status, sa.func.count()).group_by(Notification.status)
                )
            ).all()
        assert dict(statuses) == {"sent": len(expected)}
    finally:
        await db.dispose()
