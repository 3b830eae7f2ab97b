"""Catalog rows for pricing tests: a product priced by a standard list (or any list)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from protocol.ids import uuid7
from server.db import Database
from server.sfa.catalog.models import PriceList, PriceListEntry, Product


async def insert_price_list(db: Database, **values: Any) -> uuid.UUID:
    """A price list (standard unless ``account_id`` or ``segment`` is given)."""
    list_id = uuid7()
    async with db.transaction() as session:
        await session.execute(
            sa.insert(PriceList.__table__).values(
                id=list_id, name=f"List {list_id.hex[-6:]}", **values
            )
        )
    return list_id


async def insert_entry(
    db: Database, list_id: uuid.UUID, product_id: uuid.UUID, price: str, minimum: str = "1"
) -> uuid.UUID:
    """An entry of ``list_id`` pricing ``product_id`` from ``minimum`` up."""
    entry_id = uuid7()
    async with db.transaction() as session:
        await session.execute(
            sa.insert(PriceListEntry.__table__).values(
                id=entry_id,
                price_list_id=list_id,
                product_id=product_id,
                unit_price=Decimal(price),
                min_quantity=Decimal(minimum),
            )
        )
    return entry_id


async def priced_product(
    db: Database,
    price: str = "1",
    tax_rate: str = "0",
    *,
    currency: str = "CNY",
    active: bool = True,
    valid_from: dt.datetime | None = None,
) -> uuid.UUID:
    """A product sold at ``price`` by a standard list of its own (from a quantity of 0.0001)."""
    product_id = uuid7()
    async with db.transaction() as session:
        await session.execute(
            sa.insert(Product.__table__).values(
                id=product_id,
                sku=f"SKU-{product_id.hex[-12:]}",
                name="Widget",
                tax_rate=Decimal(tax_rate),
                active=active,
            )
        )
    list_id = await insert_price_list(db, currency=currency, valid_from=valid_from)
    await insert_entry(db, list_id, product_id, price, minimum="0.0001")
    return product_id


NUMBERS = ("quantity", "unit_price", "discount_pct", "tax_rate")


def without_entry(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lines without the server's ``price_entry_id`` and with their figures as numbers (the
    server's come from four-place columns: ``10.0000`` for the device's ``10.00``)."""
    return [
        {
            k: Decimal(str(v)) if k in NUMBERS else v
            for k, v in line.items()
            if k != "price_entry_id"
        }
        for line in lines
    ]
