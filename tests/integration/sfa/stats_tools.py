"""Order statistics tests: a small company of orders written through the ChangeWriter, and the
figures computed again in plain Python (the reference the endpoint must match)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from protocol.ids import uuid7
from rules.document_pricing import line_figures
from server.app import build_registry
from server.db import Database
from server.settings import Settings
from server.sfa.catalog.models import Product, ProductCategory
from server.sync.conflicts import register_engine_entities
from server.sync.writer import ChangeWriter

BERLIN = "Europe/Berlin"
STATUSES = ("draft", "confirmed", "fulfilled", "on_hold", "cancelled", "rejected")
# around the 2026 DST changes in Berlin (29 March, 25 October) and month ends
MOMENTS = (
    dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC),  # Sunday 29 March, 00:30 CET
    dt.datetime(2026, 3, 29, 22, 30, tzinfo=dt.UTC),  # Monday 30 March, 00:30 CEST
    dt.datetime(2026, 3, 31, 22, 30, tzinfo=dt.UTC),  # 1 April, 00:30 CEST
    dt.datetime(2026, 10, 24, 22, 30, tzinfo=dt.UTC),  # Sunday 25 October, 00:30 CEST
    dt.datetime(2026, 10, 25, 23, 30, tzinfo=dt.UTC),  # Monday 26 October, 00:30 CET
    dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.UTC),  # 1 November, 00:30 CET
)


def stats_writer(settings: Settings) -> ChangeWriter:
    """A writer whose registry keeps statistics in the settings' time zone."""
    registry = build_registry(settings)
    register_engine_entities(registry)
    return ChangeWriter(registry)


async def insert_products(db: Database, count: int) -> dict[uuid.UUID, uuid.UUID | None]:
    """Products in two categories (and one without); returns product -> category."""
    categories = [uuid7(), uuid7()]
    found: dict[uuid.UUID, uuid.UUID | None] = {}
    async with db.transaction() as session:
        for category_id in categories:
            await session.execute(
                sa.insert(ProductCategory.__table__).values(id=category_id, name="C")
            )
        for n in range(count):
            product_id = uuid7()
            category_id = None if n == count - 1 else categories[n % 2]
            await session.execute(
                sa.insert(Product.__table__).values(
                    id=product_id, sku=f"P{product_id.hex[-10:]}", name="P", category_id=category_id
                )
            )
            found[product_id] = category_id
    return found


@dataclass
class Company:
    """The orders written, with what the reference needs to know of each."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    territory_of: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)
    category_of: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)


async def write_order(db: Database, writer: ChangeWriter, values: dict[str, Any]) -> dict[str, Any]:
    """Insert one order (Python values) through the writer; returns its wire dict."""
    async with db.transaction() as session:
        return await writer.create(session, "order", {"id": uuid7(), **values}, principal=None)


def random_lines(rng: random.Random, products: list[uuid.UUID]) -> list[dict[str, Any]]:
    """One to four lines with awkward figures (thirds of cents, large discounts)."""
    return [
        {
            "id": str(uuid7()),
            "product_id": str(rng.choice(products)),
            "quantity": str(Decimal(rng.randint(1, 4000)) / 1000),
            "unit_price": str(Decimal(rng.randint(1, 99999)) / 100),
            "discount_pct": str(rng.choice(["0", "5", "12.5", "33.3333"])),
            "tax_rate": rng.choice(["0", "0.09", "0.13"]),
        }
        for _ in range(rng.randint(1, 4))
    ]


async def random_company(
    db: Database,
    writer: ChangeWriter,
    rng: random.Random,
    accounts: list[tuple[uuid.UUID, uuid.UUID | None, uuid.UUID]],
    products: dict[uuid.UUID, uuid.UUID | None],
    count: int,
) -> Company:
    """``count`` orders on random accounts (id, territory, rep) at random or DST moments."""
    company = Company(category_of=dict(products))
    for account_id, territory_id, _rep in accounts:
        company.territory_of[account_id] = territory_id
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for _ in range(count):
        account_id, _territory, rep_id = rng.choice(accounts)
        if rng.random() < 0.3:
            placed = rng.choice(MOMENTS)
        else:
            placed = start + dt.timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        status = rng.choice(STATUSES)
        values = {
            "account_id": account_id,
            "owner_id": rep_id,
            "status": status,
            "currency": rng.choice(["CNY", "CNY", "EUR"]),
            "lines": random_lines(rng, list(products)),
            "order_discount_pct": Decimal(rng.choice(["0", "2.5"])),
            "submitted_at": None if status == "draft" else placed,
            "created_at": placed,
        }
        company.orders.append(await write_order(db, writer, values))
    return company


def _day(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def reference(
    company: Company,
    interval: str,
    group_by: str | None,
    *,
    zone: str = BERLIN,
    statuses: tuple[str, ...] = ("confirmed", "fulfilled"),
    visible: set[uuid.UUID] | None = None,
    product_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """The rows the endpoint must answer, computed from the orders with Decimal arithmetic."""
    tz = zoneinfo.ZoneInfo(zone)
    cells: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: {"orders": set(), "quantity": Decimal(0), "amount": Decimal(0), "total": Decimal(0)}
    )
    for order in company.orders:
        account_id = uuid.UUID(order["account_id"])
        if order["status"] not in statuses or (visible is not None and account_id not in visible):
            continue
        day = _day(order["submitted_at"] or order["created_at"]).astimezone(tz).date()
        bucket = {
            "day": day,
            "week": day - dt.timedelta(days=day.weekday()),
            "month": day.replace(day=1),
        }[interval]
        discount = Decimal(order["order_discount_pct"])
        for line in order["lines"]:
            product = uuid.UUID(line["product_id"])
            if product_id is not None and product != product_id:
                continue
            key = {
                None: None,
                "rep": uuid.UUID(order["owner_id"]),
                "account": account_id,
                "territory": company.territory_of[account_id],
                "product": product,
                "category": company.category_of[product],
            }[group_by]
            _, net, tax = line_figures(
                Decimal(line["quantity"]),
                Decimal(line["unit_price"]),
                Decimal(line["discount_pct"]),
                discount,
                Decimal(line["tax_rate"]),
            )
            cell = cells[(bucket, key, order["currency"])]
            cell["orders"].add(order["id"])
            cell["quantity"] += Decimal(line["quantity"])
            cell["amount"] += net
            cell["total"] += net + tax
    rows = [
        {
            "bucket": bucket.isoformat(),
            "key": None if key is None else str(key),
            "currency": currency,
            "orders": len(cell["orders"]),
            "quantity": cell["quantity"],
            "amount": cell["amount"],
            "total": cell["total"],
        }
        for (bucket, key, currency), cell in cells.items()
    ]
    return sorted(rows, key=lambda r: (r["bucket"], r["key"] or "", r["currency"]))


def as_numbers(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answered rows with their figures as Decimals, in a backend-neutral order."""
    out = [
        {
            **row,
            "quantity": Decimal(str(row["quantity"])),
            "amount": Decimal(str(row["amount"])),
            "total": Decimal(str(row["total"])),
        }
        for row in rows
    ]
    return sorted(out, key=lambda r: (r["bucket"], r["key"] or "", r["currency"]))
