"""How long ``GET /orders/statistics`` by month and rep takes over 100,000 orders.

Run ``python -m bench.order_stats_bench`` (both backends) or ``--backend postgresql``.

A fresh database per backend (``bench.database``: migrated, dropped afterwards) gets a company
of 20 reps under one manager, 40 territories, 2,000 accounts, 60 products and ``--orders``
orders of 1 to 5 lines (seed fixed) spread over two years, in every status; their statistics
rows come from the same code the order write observer runs (``statistics_keeper.stat_rows``),
bulk-inserted, then ``VACUUM ANALYZE``d (``ANALYZE`` on SQLite). Timed: the service call behind
the endpoint (``OrderStatisticsService.statistics``: query, decoding, the page) for an admin
(every order) and for the manager (their accounts, a semi-join on the visible accounts),
``--runs`` times each after a warm-up; prints the median and the 95th percentile in
milliseconds (target: 200 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import time
import uuid
import zoneinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

from bench.database import BenchDatabase
from protocol.ids import uuid7
from server.auth.models import User
from server.db import Database, create_engine
from server.settings import Settings
from server.sfa.accounts.models import Account
from server.sfa.catalog.models import Product, ProductCategory
from server.sfa.orders.models import Order
from server.sfa.orders.statistics_keeper import stat_rows
from server.sfa.orders.statistics_models import OrderLineStat, OrderStat
from server.sfa.orders.statistics_repository import GroupBy, Interval
from server.sfa.orders.statistics_service import OrderStatisticsService, StatsRequest
from server.sfa.territories.models import Territory, TerritoryMember
from server.sync.registry import Principal

ROOT = Path(__file__).resolve().parent.parent
STATUSES = ("confirmed", "confirmed", "fulfilled", "fulfilled", "on_hold", "cancelled", "draft")
CHUNK = 2_000


def _table(model: Any) -> sa.Table:
    return cast(sa.Table, model.__table__)


async def _insert(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    async with db.transaction() as session:
        for start in range(0, len(rows), CHUNK):
            await session.execute(sa.insert(_table(model)), rows[start : start + CHUNK])


async def seed(db: Database, orders: int, zone: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The company; returns (admin id, manager id)."""
    rng = random.Random(15)
    now = dt.datetime.now(dt.UTC)
    admin, manager = uuid7(), uuid7()
    reps = [uuid7() for _ in range(20)]
    users = [
        {
            "id": uid,
            "email": f"{role}{n}@bench.test",
            "name": role,
            "role": role,
            "manager_id": manager if role == "rep" else None,
            "password_hash": "x",
        }
        for n, (uid, role) in enumerate(
            [(admin, "admin"), (manager, "manager"), *[(r, "rep") for r in reps]]
        )
    ]
    await _insert(db, User, users)
    region = uuid7()
    territories = [uuid7() for _ in range(40)]
    await _insert(db, Territory, [{"id": region, "name": "R", "level": "region"}])
    await _insert(
        db,
        Territory,
        [
            {"id": t, "name": f"T{n}", "level": "territory", "parent_id": region}
            for n, t in enumerate(territories)
        ],
    )
    # the manager manages half the territories: their statistics join the accounts
    await _insert(
        db,
        TerritoryMember,
        [{"territory_id": t, "user_id": manager, "created_at": now} for t in territories[:20]],
    )
    accounts = []
    for n in range(2_000):
        territory = territories[n % 40]
        accounts.append(
            {"id": uuid7(), "name": f"A{n}", "territory_id": territory, "owner_id": reps[n % 20]}
        )
    await _insert(db, Account, accounts)
    categories = [uuid7() for _ in range(6)]
    await _insert(db, ProductCategory, [{"id": c, "name": "C"} for c in categories])
    products = [
        {"id": uuid7(), "sku": f"S{n}", "name": "P", "category_id": categories[n % 6]}
        for n in range(60)
    ]
    await _insert(db, Product, products)
    category_of = {p["id"]: p["category_id"] for p in products}
    territory_of = {a["id"]: a["territory_id"] for a in accounts}
    tz = zoneinfo.ZoneInfo(zone)
    start = now - dt.timedelta(days=730)
    order_rows, summaries, lines = [], [], []
    for _ in range(orders):
        account = rng.choice(accounts)
        placed = start + dt.timedelta(seconds=rng.randint(0, 730 * 86_400))
        order = {
            "id": str(uuid7()),
            "account_id": str(account["id"]),
            "owner_id": str(account["owner_id"]),
            "status": rng.choice(STATUSES),
            "currency": "CNY",
            "order_discount_pct": "0",
            "submitted_at": placed.isoformat(),
            "created_at": placed.isoformat(),
            "lines": [
                {
                    "id": str(uuid7()),
                    "product_id": str(rng.choice(products)["id"]),
                    "quantity": str(rng.randint(1, 50)),
                    "unit_price": str(Decimal(rng.randint(100, 99999)) / 100),
                    "discount_pct": "0",
                    "tax_rate": "0.13",
                }
                for _ in range(rng.randint(1, 5))
            ],
        }
        summary, order_lines = stat_rows(order, territory_of[account["id"]], category_of, tz)
        order_rows.append(
            {
                "id": uuid.UUID(order["id"]),
                "account_id": account["id"],
                "owner_id": account["owner_id"],
                "status": order["status"],
                "lines": order["lines"],
                "submitted_at": placed,
                "created_at": placed,
                "updated_at": placed,
            }
        )
        summaries.append(summary)
        lines.extend(order_lines)
    await _insert(db, Order, order_rows)
    await _insert(db, OrderStat, summaries)
    await _insert(db, OrderLineStat, lines)
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        # as after any bulk load (autovacuum does it in production): PostgreSQL's index-only
        # scans need the visibility map VACUUM writes
        vacuum = "VACUUM ANALYZE" if db.dialect == "postgresql" else "ANALYZE"
        await conn.execute(sa.text(vacuum))
    print(f"  seeded {orders} orders ({len(lines)} lines)", flush=True)
    return admin, manager


async def time_queries(url: str, orders: int, runs: int) -> dict[str, list[float]]:
    settings = Settings(database_url=url, company_timezone="Europe/Berlin")
    db = Database(create_engine(url))
    try:
        admin, manager = await seed(db, orders, settings.company_timezone)
        timings: dict[str, list[float]] = {}
        request = StatsRequest(interval=Interval.MONTH, group_by=GroupBy.REP)
        for label, user_id, role in (("admin", admin, "admin"), ("manager", manager, "manager")):
            service = OrderStatisticsService(
                db,
                None,
                Principal(user_id=user_id, role=role),
                settings,  # type: ignore[arg-type]
            )
            page = await service.statistics(request, cursor=None, limit=500)  # warm-up
            assert page.items, "the bench found no figures"
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                await service.statistics(request, cursor=None, limit=500)
                samples.append((time.perf_counter() - started) * 1000)
            timings[label] = sorted(samples)
            print(f"  {label}: {len(page.items)} rows (month x rep)", flush=True)
        return timings
    finally:
        await db.dispose()


def main() -> None:
    """Seed each backend, time the statistics, print medians and 95th percentiles."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        database = BenchDatabase(backend)
        try:
            url = database.create()
            database.migrate(ROOT)
            print(
                f"{backend} ({database.version()}, schema by {database.schema_note}):", flush=True
            )
            timings = asyncio.run(time_queries(url, args.orders, args.runs))
        finally:
            database.drop()
        for label, samples in timings.items():
            p95 = samples[int(0.95 * (len(samples) - 1))]
            print(
                f"  statistics by month and rep, {label}: median "
                f"{statistics.median(samples):.1f} ms, p95 {p95:.1f} ms ({args.runs} runs)"
            )


if __name__ == "__main__":
    main()
