"""Wire shapes of warehouses and stock balances."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server.sfa.accounts.inputs import Version

Code = Annotated[
    str, Meta(min_length=1, max_length=32, pattern=r"^\S+$", description="a code without spaces")
]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Address = Annotated[str, Meta(max_length=300)]
City = Annotated[str, Meta(max_length=100)]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]


class WarehouseRecord(msgspec.Struct, kw_only=True):
    """A warehouse stock is held in."""

    id: uuid.UUID
    code: Code
    name: Name
    address: Address
    city: City
    latitude: Latitude | None
    longitude: Longitude | None
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class WarehouseCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code
    name: Name
    address: Address = ""
    city: City = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    active: bool = True


class WarehousePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    city: City | UnsetType = UNSET
    latitude: Latitude | None | UnsetType = UNSET
    longitude: Longitude | None | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    version: Version | UnsetType = UNSET


class StockBalanceRecord(msgspec.Struct, kw_only=True):
    """One product in one warehouse, as devices hold it (they compute on_hand - reserved)."""

    id: uuid.UUID
    warehouse_id: uuid.UUID
    product_id: uuid.UUID
    on_hand: decimal.Decimal
    reserved: decimal.Decimal
    version: int
    updated_at: dt.datetime


class StockBalanceOut(msgspec.Struct, kw_only=True):
    """A stock balance over REST, with ``available = on_hand - reserved``."""

    id: uuid.UUID
    warehouse_id: uuid.UUID
    product_id: uuid.UUID
    on_hand: decimal.Decimal
    reserved: decimal.Decimal
    available: decimal.Decimal
    version: int
    updated_at: dt.datetime
