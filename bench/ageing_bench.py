"""How long the daily ageing (``outpost age-receivables``) and recording payments take.

Run ``python -m bench.ageing_bench [--backend sqlite|postgresql] [--accounts 2000]
[--instalments 3] [--payments 200]`` (a fresh scratch database, dropped at the end; or ``--url``
naming an empty database it may fill). Each account is created through the change writer (as
the API creates them) with an active contract whose ``--instalments`` instalments are a month
apart, the first one overdue, written directly; then it times the first ageing run (every
account's receivable rows created, arrears derived), a second run on the same day (nothing
changes), and ``--payments`` payments through ``PaymentService`` one after another, and prints
the figures (quoted in docs/benchmarks.md, "Receivables ageing"): wall time, this process's CPU
time (the ageing runs in it) and the number of SQL statements of each run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid
from decimal import Decimal

import sqlalchemy as sa

from bench.database import BenchDatabase
from server.app import build_writer
from server.auth.models import User
from server.db import Database, create_engine, new_id
from server.models import Base
from server.settings import Settings
from server.sfa.collections.payment_service import PaymentService
from server.sfa.collections.receivables import age_receivables
from server.sfa.collections.schemas import PaymentCreate
from server.sfa.contracts.models import Contract, Instalment
from server.sync.bulk import chunks
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter

TODAY = dt.date(2027, 3, 1)


async def fill(
    db: Database, writer: ChangeWriter, accounts: int, instalments: int
) -> list[uuid.UUID]:
    """``accounts`` accounts, each with a contract of ``instalments`` x 300 CNY a month apart,
    the first 20 days overdue; returns the overdue instalments' ids."""
    overdue: list[uuid.UUID] = []
    for numbers in chunks(range(accounts), 2000):
        async with db.transaction() as session:
            rows, contracts, due = [], [], []
            for n in numbers:
                account, contract = new_id(), new_id()
                rows.append({"id": account, "name": f"Bench {n}", "credit_limit": Decimal(10**6)})
                contracts.append(
                    {
                        "id": contract,
                        "account_id": account,
                        "status": "active",
                        "value": Decimal(300 * instalments),
                        "currency": "CNY",
                        "outstanding": Decimal(300 * instalments),
                        "start_date": TODAY - dt.timedelta(days=90),
                        "end_date": TODAY + dt.timedelta(days=30 * instalments),
                    }
                )
                for seq in range(1, instalments + 1):
                    due.append(
                        {
                            "id": new_id(),
                            "contract_id": contract,
                            "account_id": account,
                            "seq": seq,
                            "due_date": TODAY + dt.timedelta(days=30 * seq - 50),
                            "amount": Decimal(300),
                            "outstanding": Decimal(300),
                            "currency": "CNY",
                        }
                    )
            await writer.create_many(session, "account", rows, principal=None)
            await session.execute(sa.insert(Contract.__table__), contracts)
            for part in chunks(due, 5000):
                await session.execute(sa.insert(Instalment.__table__), list(part))
            overdue.extend(row["id"] for row in due if row["seq"] == 1)
    return overdue


class Counter:
    """SQL statements the engine sent."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: object) -> None:
        self.count += 1


async def timed_ageing(
    db: Database, writer: ChangeWriter, now: dt.datetime, counter: Counter
) -> tuple[str, float]:
    """One ageing run: its figures as text, and its wall time."""
    statements, cpu, started = counter.count, time.process_time(), time.perf_counter()
    done = await age_receivables(db, writer, now)
    wall = time.perf_counter() - started
    text = (
        f"{wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU (this process), "
        f"{counter.count - statements} statements; {done.changed} changed, "
        f"{done.in_arrears} in arrears"
    )
    return text, wall


async def run(url: str, accounts: int, instalments: int, payments: int) -> None:
    db = Database(create_engine(url))
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    writer = build_writer()
    overdue = await fill(db, writer, accounts, instalments)
    counter = Counter(db)
    now = dt.datetime.combine(TODAY, dt.time(6), tzinfo=dt.UTC)
    first, _ = await timed_ageing(db, writer, now, counter)
    second, _ = await timed_ageing(db, writer, now, counter)
    clerk = new_id()
    async with db.transaction() as session:
        await session.execute(
            sa.insert(User.__table__).values(
                id=clerk, email="bench@example.com", name="Bench", role="admin", password_hash="-"
            )
        )
    service = PaymentService(db, writer, Principal(clerk, "admin"), Settings(database_url=url))
    timings = []
    for instalment_id in overdue[:payments]:
        body = PaymentCreate(
            instalment_id=instalment_id, amount=Decimal(300), currency="CNY", received_on=TODAY
        )
        started = time.perf_counter()
        await service.record_payment(body)
        timings.append((time.perf_counter() - started) * 1000)
    await db.dispose()
    timings.sort()
    print(f"{db.dialect}: {accounts} accounts, {accounts * instalments} instalments")
    print(f"  first ageing: {first}")
    print(f"  second ageing, same day: {second}")
    if timings:
        print(
            f"  {len(timings)} payments: median {statistics.median(timings):.1f} ms, "
            f"p95 {timings[int(0.95 * (len(timings) - 1))]:.1f} ms"
        )


def main() -> None:
    """Parse the arguments and run once."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--instalments", type=int, default=3, help="per account")
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", default=None, help="an empty database instead of a scratch one")
    args = parser.parse_args()
    if args.url is not None:
        asyncio.run(run(args.url, args.accounts, args.instalments, args.payments))
        return
    scratch = BenchDatabase(args.backend)
    try:
        asyncio.run(run(scratch.create(), args.accounts, args.instalments, args.payments))
    finally:
        scratch.drop()


if __name__ == "__main__":
    main()
