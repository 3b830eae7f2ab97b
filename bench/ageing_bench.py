"""How long the daily ageing (``outpost age-receivables``) and recording payments take.

Run ``python -m bench.ageing_bench [--accounts 2000] [--url URL]`` (default: a scratch SQLite
file; a PostgreSQL URL must name an empty database it may fill). Each account gets an active
contract with three instalments (one overdue, two to come), written directly; then it times the
first ageing run (every account's receivable rows created, arrears derived), a second run on
the same day (nothing changes), and ``--payments`` payments through ``PaymentService`` one after
another, and prints the figures (quoted in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from server.app import build_writer
from server.auth.models import User
from server.db import Database, create_engine, new_id
from server.models import Base
from server.settings import Settings
from server.sfa.accounts.models import Account
from server.sfa.collections.payment_service import PaymentService
from server.sfa.collections.receivables import age_receivables
from server.sfa.collections.schemas import PaymentCreate
from server.sfa.contracts.models import Contract, Instalment
from server.sync.registry import Principal

TODAY = dt.date(2027, 3, 1)


async def fill(db: Database, accounts: int) -> list[uuid.UUID]:
    """``accounts`` accounts with a 900 CNY contract each: 300 overdue, 2 x 300 to come."""
    async with db.transaction() as session:
        rows, contracts, due = [], [], []
        for n in range(accounts):
            account, contract = new_id(), new_id()
            rows.append({"id": account, "name": f"Bench {n}", "credit_limit": Decimal(10**6)})
            contracts.append(
                {
                    "id": contract,
                    "account_id": account,
                    "status": "active",
                    "value": Decimal(900),
                    "currency": "CNY",
                    "outstanding": Decimal(900),
                    "start_date": TODAY - dt.timedelta(days=90),
                    "end_date": TODAY + dt.timedelta(days=300),
                }
            )
            for seq, days in enumerate((-20, 10, 40), start=1):
                due.append(
                    {
                        "id": new_id(),
                        "contract_id": contract,
                        "account_id": account,
                        "seq": seq,
                        "due_date": TODAY + dt.timedelta(days=days),
                        "amount": Decimal(300),
                        "outstanding": Decimal(300),
                        "currency": "CNY",
                    }
                )
        await session.execute(sa.insert(Account.__table__), rows)
        await session.execute(sa.insert(Contract.__table__), contracts)
        await session.execute(sa.insert(Instalment.__table__), due)
        instalments = [row["id"] for row in due if row["seq"] == 1]
    return instalments


async def run(url: str, accounts: int, payments: int) -> None:
    db = Database(create_engine(url))
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    writer = build_writer()
    overdue = await fill(db, accounts)
    now = dt.datetime.combine(TODAY, dt.time(6), tzinfo=dt.UTC)
    started = time.perf_counter()
    first = await age_receivables(db, writer, now)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = await age_receivables(db, writer, now)
    second_s = time.perf_counter() - started
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
    print(f"{db.dialect}: {accounts} accounts")
    print(
        f"  first ageing: {first_s:.2f} s ({first.changed} changed, {first.in_arrears} in arrears)"
    )
    print(f"  second ageing, same day: {second_s:.2f} s ({second.changed} changed)")
    print(
        f"  {len(timings)} payments: median {statistics.median(timings):.1f} ms, "
        f"p95 {timings[int(0.95 * (len(timings) - 1))]:.1f} ms"
    )


def main() -> None:
    """Parse the arguments and run once."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    url = args.url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'ageing.db'}"
    asyncio.run(run(url, args.accounts, args.payments))


if __name__ == "__main__":
    main()
