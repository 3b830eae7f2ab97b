"""Wire shapes of warehouses and stock balances."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import msgspec
from msgspec import UNSET, UnsetType

from protocol.entities.fields import Address, Code, Latitude, Longitude, Name
from protocol.entities.fields import Text100 as City
from protocol.entities.stock import StockBalanceRecord, WarehouseRecord

# The records are the shared wire definitions; REST bodies use the same field types and limits.
__all__ = ["StockBalanceRecord", "WarehouseRecord"]


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
