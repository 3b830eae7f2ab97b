"""Keeps the order statistics read model in step with every order write (same transaction).

Registered as a write observer of ``order`` (``server.sfa.registration``): whatever writes an
order (a push, the order desk, ``quote.convert``, seeding) goes through the ChangeWriter, which
hands the written records here just before their change-log rows. Each written order's rows are
replaced; a deleted order's rows go with it.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rules.document_pricing import line_figures
from rules.pricing import parse_lines
from server.sfa.accounts.models import Account
from server.sfa.catalog.models import Product
from server.sfa.orders.statistics_models import OrderLineStat, OrderStat
from server.sync.bulk import any_of, chunks, insert_rows
from server.sync.registry import WriteObserver

_orders = cast(sa.Table, OrderStat.__table__)
_lines = cast(sa.Table, OrderLineStat.__table__)
_accounts = cast(sa.Table, Account.__table__)
_products = cast(sa.Table, Product.__table__)
CENTS = Decimal(100)
QUANTITY_SCALE = Decimal(10_000)


def local_keys(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> dict[str, dt.date]:
    """The day, week (its Monday) and month (its first day) of ``moment`` in ``zone``."""
    day = moment.astimezone(zone).date()
    return {
        "local_day": day,
        "local_week": day - dt.timedelta(days=day.weekday()),
        "local_month": day.replace(day=1),
    }


def cents(value: Decimal) -> int:
    """A money amount (already in cents) as integer cents."""
    return int((value * CENTS).to_integral_value(rounding=ROUND_HALF_UP))


def quantity_units(value: Decimal) -> int:
    """A quantity in ten-thousandths of a unit (half-up beyond four places)."""
    return int((value * QUANTITY_SCALE).to_integral_value(rounding=ROUND_HALF_UP))


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def _moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def stat_rows(
    order: dict[str, Any],
    territory_id: uuid.UUID | None,
    categories: dict[uuid.UUID, uuid.UUID | None],
    zone: zoneinfo.ZoneInfo,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The statistics rows of one order (wire dict): the order's and one per line."""
    placed = _moment(order.get("submitted_at") or order["created_at"])
    common = {
        "order_id": uuid.UUID(str(order["id"])),
        "status": str(order["status"]),
        "rep_id": uuid.UUID(str(order["owner_id"])),
        "territory_id": territory_id,
        "account_id": uuid.UUID(str(order["account_id"])),
        "currency": str(order.get("currency") or "CNY"),
        "placed_at": placed,
        **local_keys(placed, zone),
    }
    order_discount = Decimal(str(order.get("order_discount_pct") or 0))
    lines: list[dict[str, Any]] = []
    quantity = amount = total = 0
    for number, line in enumerate(parse_lines(order.get("lines"))):
        _, net, tax = line_figures(
            line.quantity, line.unit_price, line.discount_pct, order_discount, line.tax_rate
        )
        figures = {
            "quantity": quantity_units(line.quantity),
            "amount_cents": cents(net),
            "total_cents": cents(net + tax),
        }
        quantity += figures["quantity"]
        amount += figures["amount_cents"]
        total += figures["total_cents"]
        lines.append(
            {
                **common,
                **figures,
                "line_no": number,
                "product_id": line.product_id,
                "category_id": categories.get(line.product_id),
            }
        )
    summary = {**common, "quantity": quantity, "amount_cents": amount, "total_cents": total}
    return summary, lines


async def _lookup(
    session: AsyncSession, table: sa.Table, column: str, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID | None]:
    found: dict[uuid.UUID, uuid.UUID | None] = {}
    for chunk in chunks(sorted(set(ids))):
        rows = await session.execute(
            sa.select(table.c.id, table.c[column]).where(table.c.id.in_(chunk))
        )
        found.update({row[0]: row[1] for row in rows})
    return found


async def refresh_order_stats(
    session: AsyncSession,
    orders: list[dict[str, Any]],
    deleted: list[uuid.UUID],
    zone: zoneinfo.ZoneInfo,
) -> None:
    """Replace the statistics rows of ``orders`` (wire dicts) and drop those of ``deleted``."""
    ids = [uuid.UUID(str(order["id"])) for order in orders] + list(deleted)
    for chunk in chunks(ids):
        await session.execute(sa.delete(_lines).where(_lines.c.order_id.in_(chunk)))
        await session.execute(sa.delete(_orders).where(_orders.c.order_id.in_(chunk)))
    if not orders:
        return
    territories = await _lookup(
        session, _accounts, "territory_id", (uuid.UUID(str(o["account_id"])) for o in orders)
    )
    product_ids = {
        uuid.UUID(str(line["product_id"])) for o in orders for line in o.get("lines") or []
    }
    categories = await _lookup(session, _products, "category_id", product_ids)
    summaries: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for order in orders:
        summary, order_lines = stat_rows(
            order, territories.get(uuid.UUID(str(order["account_id"]))), categories, zone
        )
        summaries.append(summary)
        lines.extend(order_lines)
    for rows, table in ((summaries, _orders), (lines, _lines)):
        await insert_rows(session, table, rows)


def order_stats_observer(company_timezone: str) -> WriteObserver:
    """The write observer of orders that keeps their statistics (days in ``company_timezone``)."""
    zone = zoneinfo.ZoneInfo(company_timezone)

    async def observe(
        session: AsyncSession, orders: list[dict[str, Any]], deleted: list[uuid.UUID]
    ) -> None:
        await refresh_order_stats(session, orders, deleted, zone)

    return observe


async def follow_moved_orders(session: AsyncSession, moved: Mapping[uuid.UUID, str]) -> None:
    """A move observer of ``order``: orders a bulk move rekeyed (their account changed
    territory, the orders themselves unchanged) take their account's territory in the
    statistics, as a rewrite of the order would give them."""
    for table in (_orders, _lines):
        for chunk in chunks(sorted(moved)):
            await session.execute(
                sa.update(table)
                .where(any_of(session, table.c.order_id, chunk))
                .where(_accounts.c.id == table.c.account_id)
                .values(territory_id=_accounts.c.territory_id)
                .execution_options(synchronize_session=False)
            )
