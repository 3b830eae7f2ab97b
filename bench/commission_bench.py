"""How long computing a commission month takes: ``python -m bench.commission_bench
[--backend postgresql] [--reps 500] [--lines 100000] [--runs 3]``.

A throwaway database gets ``--reps`` reps under one rep plan (category rates, a threshold and an
accelerator tier, a cap, a SPIFF), one account each, and orders of five lines confirmed in
November 2026 (``--lines`` order lines in all, 10 % of the orders split 50/50 with another rep,
1 % cancelled in the month). Then it computes and stores the month's statements
(``refresh_statements``, what ``close-commissions`` and the compute endpoint run) ``--runs``
times: the first run inserts every statement, the later ones recompute and find nothing
changed. It prints each run's wall time, this process's CPU time, the SQL statements run, and
the load average (docs/benchmarks.md, section "Commissions").
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import time
from typing import Any

import sqlalchemy as sa

from bench.database import BenchDatabase
from server.auth.models import User
from server.db import Database, create_engine, new_id
from server.models import Base
from server.settings import Settings
from server.sfa.accounts.models import Account
from server.sfa.catalog.models import Product, ProductCategory
from server.sfa.commissions.models import CommissionPlan, CreditSplit
from server.sfa.commissions.statement_service import refresh_statements
from server.sfa.orders.models import Order, OrderTransition

PERIOD = "2026-11"
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
LINES_PER_ORDER = 5


def plan_definition(plan_id: Any, product_id: Any) -> dict[str, Any]:
    """The rep plan: 3 % (hardware 5 %, software 8 %), x0 below 20 %, x1.5 from 100 %."""
    return {
        "id": str(plan_id),
        "name": "Bench reps",
        "valid_from": "2026-01-01",
        "role": "rep",
        "earns_on": "order_confirmed",
        "quota": "50000",
        "default_rate_pct": "3",
        "category_rates_pct": {"cat 0": "5", "cat 1": "8"},
        "tier_style": "whole",
        "tiers": [
            {"name": "threshold", "from_pct": "0", "multiplier": "0"},
            {"name": "base", "from_pct": "20", "multiplier": "1"},
            {"name": "accelerator", "from_pct": "100", "multiplier": "1.5"},
        ],
        "cap": "20000",
        "spiffs": [
            {
                "product_id": str(product_id),
                "amount_per_unit": "2",
                "starts_on": "2026-11-01",
                "ends_on": "2026-11-15",
            }
        ],
    }


async def insert(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    """``rows`` into ``table`` in chunks of 2,000."""
    for start in range(0, len(rows), 2000):
        async with db.transaction() as session:
            await session.execute(sa.insert(table), rows[start : start + 2000])


async def seed(db: Database, reps: int, lines: int) -> None:
    """Reps, their accounts, products in ten categories, the plan and the month's orders."""
    categories = [{"id": new_id(), "name": f"cat {n}"} for n in range(10)]
    products = [
        {"id": new_id(), "sku": f"B-{n}", "name": f"P{n}", "category_id": categories[n % 10]["id"]}
        for n in range(50)
    ]
    users = [
        {"id": new_id(), "email": f"r{n}@bench", "name": f"Rep {n}", "role": "rep",
         "password_hash": "-"}
        for n in range(reps)
    ]
    accounts = [{"id": new_id(), "name": f"A{n}", "owner_id": u["id"]} for n, u in enumerate(users)]
    await insert(db, ProductCategory.__table__, categories)
    await insert(db, Product.__table__, products)
    await insert(db, User.__table__, users)
    await insert(db, Account.__table__, accounts)
    plan_id = new_id()
    await insert(db, CommissionPlan.__table__, [{
        "id": plan_id, "name": "Bench reps", "role": "rep", "valid_from": dt.date(2026, 1, 1),
        "definition": plan_definition(plan_id, products[0]["id"]),
    }])
    orders, transitions, splits = [], [], []
    for n in range(lines // LINES_PER_ORDER):
        owner = n % reps
        order_id = new_id()
        at = START + dt.timedelta(seconds=n * 29 * 86400 // (lines // LINES_PER_ORDER))
        orders.append({
            "id": order_id, "account_id": accounts[owner]["id"], "owner_id": users[owner]["id"],
            "status": "confirmed",
            "lines": [
                {"id": str(new_id()), "product_id": str(products[(n + k) % 50]["id"]),
                 "quantity": str(1 + k), "unit_price": "19.90", "discount_pct": "0",
                 "tax_rate": "0"}
                for k in range(LINES_PER_ORDER)
            ],
        })
        transitions.append({"id": new_id(), "order_id": order_id, "action": "confirm",
                            "from_status": "submitted", "to_status": "confirmed", "created_at": at})
        if n % 100 == 7:
            transitions.append({"id": new_id(), "order_id": order_id, "action": "cancel",
                                "from_status": "confirmed", "to_status": "cancelled",
                                "created_at": at + dt.timedelta(hours=5)})
        if n % 10 == 3:
            partner = users[(owner + 1) % reps]["id"]
            splits.append({"order_id": order_id, "shares": [
                {"rep_id": str(users[owner]["id"]), "share_pct": "50"},
                {"rep_id": str(partner), "share_pct": "50"}]})
    await insert(db, Order.__table__, orders)
    await insert(db, OrderTransition.__table__, transitions)
    await insert(db, CreditSplit.__table__, splits)


async def run(url: str, reps: int, lines: int, runs: int) -> None:
    db = Database(create_engine(url))
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    print(f"seeding {reps} reps and {lines} order lines ...", flush=True)
    await seed(db, reps, lines)
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    settings = Settings(database_url=url)
    walls = []
    for index in range(runs):
        statements[0] = 0
        cpu, wall = time.process_time(), time.perf_counter()
        written = await refresh_statements(db, settings, PERIOD, None)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        walls.append(wall)
        print(
            f"  run {index + 1}: {wall:.2f} s wall, {cpu:.2f} s CPU (this process), "
            f"{statements[0]} SQL statements, {written} statements written, "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    await db.dispose()
    print(f"{db.dialect}: a month of {reps} reps and {lines} order lines: "
          f"median {statistics.median(walls):.2f} s over {runs} runs (target <= 10 s)")


def main() -> None:
    """Parse the arguments, run in a throwaway database, drop it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    database = BenchDatabase(args.backend)
    try:
        url = database.create()
        asyncio.run(run(url, args.reps, args.lines, args.runs))
    finally:
        database.drop()


if __name__ == "__main__":
    main()
