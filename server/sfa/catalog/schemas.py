"""Wire shapes of the catalog: categories, products, price lists and their entries."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server.sfa.accounts.inputs import Version
from server.sfa.accounts.models import Segment

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Sku = Annotated[
    str, Meta(min_length=1, max_length=64, pattern=r"^\S+$", description="a code without spaces")
]
Unit = Annotated[str, Meta(min_length=1, max_length=20)]
Currency = Annotated[
    str, Meta(pattern=r"^[A-Z]{3}$", description="a three-letter ISO 4217 code such as EUR")
]
UtcTime = Annotated[dt.datetime, Meta(tz=True)]


class CategoryRecord(msgspec.Struct, kw_only=True):
    """A product category; ``parent_id`` makes a tree."""

    id: uuid.UUID
    name: Name
    parent_id: uuid.UUID | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class CategoryCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    parent_id: uuid.UUID | None = None


class CategoryPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    parent_id: uuid.UUID | None | UnsetType = UNSET
    version: Version | UnsetType = UNSET


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


class ProductCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    sku: Sku
    name: Name
    category_id: uuid.UUID | None = None
    unit: Unit = "each"
    tax_rate: decimal.Decimal = decimal.Decimal(0)
    list_price: decimal.Decimal = decimal.Decimal(0)
    active: bool = True


class ProductPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    sku: Sku | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    category_id: uuid.UUID | None | UnsetType = UNSET
    unit: Unit | UnsetType = UNSET
    tax_rate: decimal.Decimal | UnsetType = UNSET
    list_price: decimal.Decimal | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    version: Version | UnsetType = UNSET


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


class PriceListCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    currency: Currency = "CNY"
    segment: Segment | None = None
    account_id: uuid.UUID | None = None
    valid_from: UtcTime | None = None
    valid_to: UtcTime | None = None
    active: bool = True


class PriceListPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    segment: Segment | None | UnsetType = UNSET
    account_id: uuid.UUID | None | UnsetType = UNSET
    valid_from: UtcTime | None | UnsetType = UNSET
    valid_to: UtcTime | None | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    version: Version | UnsetType = UNSET


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


class EntryCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    product_id: uuid.UUID
    unit_price: decimal.Decimal
    min_quantity: decimal.Decimal = decimal.Decimal(1)


class EntryPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    product_id: uuid.UUID | UnsetType = UNSET
    unit_price: decimal.Decimal | UnsetType = UNSET
    min_quantity: decimal.Decimal | UnsetType = UNSET
    version: Version | UnsetType = UNSET


class ProductFilters(msgspec.Struct, kw_only=True):
    category_id: uuid.UUID | None = None
    active: bool | None = None
    q: str | None = None  # name or sku contains


class PriceListFilters(msgspec.Struct, kw_only=True):
    segment: Segment | None = None
    account_id: uuid.UUID | None = None
    currency: str | None = None
    active: bool | None = None
