"""The read-only catalog records: categories, products, price lists and their entries."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import msgspec

from protocol.entities.accounts import Segment
from protocol.entities.definition import EntityDef
from protocol.entities.fields import Currency, Name, Sku, Unit


class CategoryRecord(msgspec.Struct, kw_only=True):
    """A product category; ``parent_id`` makes a tree."""

    id: uuid.UUID
    name: Name
    parent_id: uuid.UUID | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductRecord(msgspec.Struct, kw_only=True):
    """A sellable product; ``tax_rate`` is a fraction (0.13 = 13 %)."""

    id: uuid.UUID
    sku: Sku
    name: Name
    category_id: uuid.UUID | None
    unit: Unit
    tax_rate: decimal.Decimal
    list_price: decimal.Decimal
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class PriceListRecord(msgspec.Struct, kw_only=True):
    """Prices for a segment, for one account, or for everyone (neither set)."""

    id: uuid.UUID
    name: Name
    currency: Currency
    segment: Segment | None
    account_id: uuid.UUID | None
    valid_from: dt.datetime | None
    valid_to: dt.datetime | None
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class PriceListEntryRecord(msgspec.Struct, kw_only=True):
    """The unit price of a product from ``min_quantity`` up, in one price list."""

    id: uuid.UUID
    price_list_id: uuid.UUID
    product_id: uuid.UUID
    min_quantity: decimal.Decimal
    unit_price: decimal.Decimal
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


# Admins write the catalog over REST; devices only read it.
PRODUCT_CATEGORY = EntityDef(
    name="product_category", record=CategoryRecord, writable=False, deletable=False
)
PRODUCT = EntityDef(name="product", record=ProductRecord, writable=False, deletable=False)
PRICE_LIST = EntityDef(name="price_list", record=PriceListRecord, writable=False, deletable=False)
PRICE_LIST_ENTRY = EntityDef(
    name="price_list_entry", record=PriceListEntryRecord, writable=False, deletable=False
)
