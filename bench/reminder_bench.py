"""Notifications benchmark (issue 19): N due reminders claimed and handed to the sender by
two scheduler processes on one database.

    .venv/bin/python -m bench.reminder_bench [--backend postgresql] [--reminders 100000]
        [--processes 2] [--sender count|fcm] [--repeat 3] [--claim-batch 1000]

Each run: a fresh database (``outpost migrate``), 1,000 users with a push token each, N open
calendar events due now (one reminder each), the generator once (timed apart), then
``--processes`` dispatcher processes drain the outbox concurrently, each the scheduler's own
``Dispatcher`` (atomic claims of ``OUTPOST_NOTIFY_CLAIM_BATCH`` rows, the suppression check
against the events, preferences, tokens, budget) with the chosen sender: ``count`` (an
in-memory sender that accepts everything: the outbox's own cost) or ``fcm`` (firebase-admin to
the local FCM stand-in, one HTTP request per reminder: the sender's cost on this machine).
Prints per-run rates and the median, and checks that every reminder was sent exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.database import BenchDatabase
from bench.server_proc import cpu_seconds
from server.db import Database, create_engine, new_id
from server.notifications.senders import Outcome, PushMessage, SendResult

ROOT = Path(__file__).resolve().parents[1]
USERS = 1000


class CountingSender:
    """Accepts every push at once (no network): what remains is the outbox's cost."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, messages: list[PushMessage]) -> list[SendResult]:
        self.sent += len(messages)
        return [SendResult(outcome=Outcome.SENT, message_id="m") for _ in messages]

    async def close(self) -> None:
        return None


CLAIM_BATCH = 1000


def settings_for(url: str, batch: int = CLAIM_BATCH, **extra: Any) -> Any:
    from server.settings import Settings

    return Settings(
        database_url=url,
        notify_hourly_budget=0,
        notify_quiet_start_minute=0,
        notify_quiet_end_minute=0,
        notify_claim_batch=batch,
        notify_lookahead_seconds=3600,
        **extra,
    )


async def populate(url: str, reminders: int, now: dt.datetime) -> float:
    """Users, tokens and events; then one generator pass (its seconds)."""
    from server.auth.models import Device, Role, User
    from server.notifications.clock import FixedClock
    from server.notifications.models import PushToken
    from server.notifications.reminders import ReminderGenerator
    from server.notifications.sources import build_sources
    from server.sfa.calendar.models import CalendarEvent

    db = Database(create_engine(url))
    users = [new_id() for _ in range(USERS)]
    async with db.transaction() as session:
        await session.execute(
            sa.insert(User),
            [
                {
                    "id": u,
                    "email": f"u{i}@bench.example",
                    "name": "u",
                    "role": Role.REP,
                    "password_hash": "x",
                    "timezone": "UTC",
                }
                for i, u in enumerate(users)
            ],
        )
        devices = [new_id() for _ in users]
        await session.execute(
            sa.insert(Device),
            [{"id": d, "user_id": u, "name": "phone"} for u, d in zip(users, devices, strict=True)],
        )
        await session.execute(
            sa.insert(PushToken),
            [
                {
                    "id": new_id(),
                    "user_id": u,
                    "device_id": d,
                    "token": f"tok-{d}",
                    "platform": "android",
                    "created_at": now,
                    "updated_at": now,
                }
                for u, d in zip(users, devices, strict=True)
            ],
        )
    start = now + dt.timedelta(minutes=30)
    for offset in range(0, reminders, 10000):
        async with db.transaction() as session:
            await session.execute(
                sa.insert(CalendarEvent),
                [
                    {
                        "id": new_id(),
                        "owner_id": users[i % USERS],
                        "title": f"event {i}",
                        "starts_at": start,
                        "ends_at": start + dt.timedelta(hours=1),
                        "reminder_offsets": [30],
                    }
                    for i in range(offset, min(reminders, offset + 10000))
                ],
            )
    settings = settings_for(url)
    began = time.perf_counter()
    report = await ReminderGenerator(
        db, settings, FixedClock(now), build_sources(settings)
    ).generate()
    took = time.perf_counter() - began
    assert report.queued == reminders, report
    await db.dispose()
    return took


class Meter:
    """What one dispatcher process costs: SQL statements it sent, and the CPU seconds of its
    PostgreSQL backends (read from /proc before they disconnect; the server runs here)."""

    def __init__(self, engine: Any) -> None:
        self.statements = 0
        self.backends: set[int] = set()
        sync = engine.sync_engine
        sa.event.listen(sync, "before_cursor_execute", self._count)
        if sync.dialect.name == "postgresql":
            sa.event.listen(sync, "connect", self._backend)

    def _count(self, *_args: Any) -> None:
        self.statements += 1

    def _backend(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        self.backends.add(int(cursor.fetchone()[0]))
        cursor.close()

    def server_cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.backends)


def dispatch_process(
    url: str, sender_kind: str, fcm_url: str, now: str, batch: int, out: Any
) -> None:
    """One scheduler process: drain the outbox; report what it sent and what it cost."""
    from server.notifications.clock import FixedClock
    from server.notifications.dispatch import Dispatcher
    from server.notifications.senders import FcmSender
    from server.notifications.sources import build_sources

    async def run() -> dict[str, float]:
        settings = settings_for(
            url, batch, fcm_endpoint=fcm_url, fcm_project_id="bench", fcm_concurrency=16
        )
        engine = create_engine(url)
        meter = Meter(engine)
        db = Database(engine)
        cpu = time.process_time()
        sender: Any = (
            CountingSender() if sender_kind == "count" else FcmSender.from_settings(settings)
        )
        dispatcher = Dispatcher(
            db,
            sender,
            settings,
            FixedClock(dt.datetime.fromisoformat(now)),
            build_sources(settings),
            f"bench-{uuid.uuid4()}",
        )
        sent = 0
        while True:
            report = await dispatcher.dispatch_once()
            sent += report.sent
            if report.claimed == 0:
                break
        figures = {
            "sent": sent,
            "cpu": time.process_time() - cpu,
            "server_cpu": meter.server_cpu(),
            "statements": meter.statements,
        }
        await sender.close()
        await db.dispose()
        return figures

    out.put(asyncio.run(run()))


async def count_sent(url: str) -> dict[str, int]:
    from server.notifications.models import Notification

    db = Database(create_engine(url))
    async with db.reading() as session:
        rows = (
            await session.execute(
                sa.select(Notification.status, sa.func.count()).group_by(Notification.status)
            )
        ).all()
    await db.dispose()
    return {str(status): int(n) for status, n in rows}


def one_run(
    backend: str, reminders: int, processes: int, sender: str, batch: int
) -> dict[str, float]:
    database = BenchDatabase(backend)
    database.create()
    try:
        database.migrate(ROOT)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        generate_s = asyncio.run(populate(database.url, reminders, now))
        fcm_url = ""
        standin = None
        if sender == "fcm":
            from tests.fcm_standin import FcmStandIn

            standin = FcmStandIn().__enter__()
            fcm_url = standin.url
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        workers = [
            ctx.Process(
                target=dispatch_process,
                args=(database.url, sender, fcm_url, now.isoformat(), batch, out),
            )
            for _ in range(processes)
        ]
        began = time.perf_counter()
        for worker in workers:
            worker.start()
        per_process = [out.get(timeout=1800) for _ in workers]
        took = time.perf_counter() - began
        for worker in workers:
            worker.join()
        if standin is not None:
            delivered = len(standin.delivered())
            standin.__exit__()
            assert delivered == reminders, delivered
        statuses = asyncio.run(count_sent(database.url))
        assert statuses == {"sent": reminders}, statuses  # each exactly once
        shares = [p["sent"] for p in per_process]
        assert sum(shares) == reminders, shares
        thousands = reminders / 1000
        return {
            "generate_s": generate_s,
            "dispatch_s": took,
            "rate": reminders / took,
            "split": min(shares) / max(shares),
            "cpu_ms": 1000 * sum(p["cpu"] for p in per_process) / thousands,
            "server_cpu_ms": 1000 * sum(p["server_cpu"] for p in per_process) / thousands,
            "statements": sum(p["statements"] for p in per_process) / thousands,
            "load": os.getloadavg()[0],
        }
    finally:
        database.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--sender", choices=("count", "fcm"), default="count")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--claim-batch", type=int, default=CLAIM_BATCH, help="rows per claim (default 1000)"
    )
    args = parser.parse_args()
    runs = []
    for i in range(args.repeat):
        run = one_run(args.backend, args.reminders, args.processes, args.sender, args.claim_batch)
        runs.append(run)
        print(
            f"run {i + 1}: generate {run['generate_s']:.1f} s; dispatch {run['dispatch_s']:.1f}"
            f" s = {run['rate']:,.0f} reminders/s (smaller/larger process share "
            f"{run['split']:.2f}); per 1,000 reminders: dispatcher CPU {run['cpu_ms']:.0f} ms,"
            f" server CPU {run['server_cpu_ms']:.0f} ms, {run['statements']:.1f} statements;"
            f" load average {run['load']:.2f}",
            flush=True,
        )

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(
        f"median: {median('rate'):,.0f} reminders/s dispatched, generator "
        f"{median('generate_s'):.1f} s; per 1,000: dispatcher CPU {median('cpu_ms'):.0f} ms, "
        f"server CPU {median('server_cpu_ms'):.0f} ms, {median('statements'):.1f} statements "
        f"({args.backend}, {args.reminders:,} reminders, {args.processes} processes, "
        f"claims of {args.claim_batch}, sender {args.sender})"
    )


if __name__ == "__main__":
    main()
