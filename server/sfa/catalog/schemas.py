"""Wire shapes of the catalog: categories, products, price lists and their entries."""

from __future__ import annotations

import decimal
import uuid

import msgspec
from msgspec import UNSET, UnsetType

from protocol.entities.accounts import Segment
from protocol.entities.catalog import (
    CategoryRecord,
    PriceListEntryRecord,
    PriceListRecord,
    ProductRecord,
)
from protocol.entities.fields import AwareDateTime as UtcTime
from protocol.entities.fields import Currency, Name, Sku, Unit
from server.sfa.inputs import Version

# The records are the shared wire definitions; REST bodies use the same field types and limits.
__all__ = ["CategoryRecord", "PriceListEntryRecord", "PriceListRecord", "ProductRecord"]


class CategoryCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    parent_id: uuid.UUID | None = None


class CategoryPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    parent_id: uuid.UUID | None | UnsetType = UNSET
    version: Version | UnsetType = UNSET


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
