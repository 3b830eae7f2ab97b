"""Offline pricing of quotes and orders: the server's ``rules/`` engine over the synced catalog.

A draft's lines are priced from the local ``price_list``, ``price_list_entry`` and ``product``
records and the local ``account`` (its segment) at the device's clock, exactly as the server
prices them at push time (``server/sfa/pricing``); in the normal case the server reprices
nothing. A line the engine refuses (``no_price``, ``currency_mismatch``, an unknown or
inactive product, a discount outside 0..100) is the same typed refusal, with code and field,
that the server would send. Until the catalog has synced (no product held at all) the lines
keep the app's figures; the server prices them on push and says so (``repriced``).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

from protocol.entities.lines import Line
from rules.document_pricing import LineRequest, PricedDocument, ProductInfo, price_document
from rules.price_resolution import PriceBook, PriceEntry, PriceList, PricingError
from rules.pricing import lines_to_wire

# statuses whose lines are priced (the offer is still open), as on the server
PRICED_STATUSES = frozenset({"draft", "pending_approval"})

Query = Callable[[str, dict[str, Any]], list[dict[str, Any]]]


class LocalCatalog:
    """What offline pricing reads of the local store, in one connection."""

    def __init__(self, conn: sqlite3.Connection, query: Query) -> None:
        self.conn = conn
        self.query = query

    def synced(self) -> bool:
        """Has the catalog reached this device (any product held)?"""
        row = self.conn.execute(
            "SELECT 1 FROM records WHERE entity = 'product' AND data IS NOT NULL LIMIT 1"
        ).fetchone()
        return row is not None

    def segment(self, account_id: str) -> tuple[bool, str | None]:
        """(the account is held, its segment)."""
        found = self.query("account", {"id": account_id})
        if not found:
            return False, None
        return True, found[0].get("segment")

    def book(self, product_ids: list[str]) -> tuple[PriceBook, dict[uuid.UUID, ProductInfo]]:
        """The price book of these products (their entries and the lists holding them), and
        the products' tax rates and active flags."""
        products = {
            uuid.UUID(row["id"]): msgspec.convert(row, ProductInfo, strict=False)
            for row in self.query("product", {"id": product_ids})
        }
        entries = [
            msgspec.convert(row, PriceEntry, strict=False)
            for row in self.query("price_list_entry", {"product_id": product_ids})
        ]
        list_ids = sorted({str(entry.price_list_id) for entry in entries})
        lists = [
            msgspec.convert(row, PriceList, strict=False)
            for row in self.query("price_list", {"id": list_ids})
        ]
        return PriceBook(lists, entries), products


def price_view(
    view: dict[str, Any],
    lines: list[Line],
    catalog: LocalCatalog,
    *,
    at: dt.datetime | None = None,
) -> PricedDocument | None:
    """Price an open document's lines in place from the local catalog; None when the catalog
    has not synced yet (the lines keep their figures). ``PricingError`` names the bad field."""
    if str(view.get("status") or "draft") not in PRICED_STATUSES or not catalog.synced():
        return None
    account_id = view.get("account_id")
    if account_id is None:
        return None  # the record rules refuse it
    _held, segment = catalog.segment(str(account_id))
    book, products = catalog.book(sorted({str(line.product_id) for line in lines}))
    priced = price_document(
        [
            LineRequest(
                id=line.id,
                product_id=line.product_id,
                quantity=line.quantity,
                discount_pct=line.discount_pct,
            )
            for line in lines
        ],
        book=book,
        products=products,
        account_id=uuid.UUID(str(account_id)),
        segment=segment,
        currency=str(view.get("currency") or "CNY"),
        at=at or dt.datetime.now(dt.UTC),
        order_discount_pct=Decimal(str(view.get("order_discount_pct") or 0)),
    )
    view["lines"] = lines_to_wire(line.to_line() for line in priced.lines)
    view.update(
        subtotal=str(priced.subtotal), tax_total=str(priced.tax_total), total=str(priced.total)
    )
    return priced


__all__ = ["LocalCatalog", "PricingError", "price_view"]
