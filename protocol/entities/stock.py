"""The read-only ``warehouse`` and ``stock_balance`` records."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import msgspec

from protocol.entities.definition import EntityDef
from protocol.entities.fields import Address, Code, Latitude, Longitude, Name, Text100


class WarehouseRecord(msgspec.Struct, kw_only=True):
    """A warehouse stock is held in."""

    id: uuid.UUID
    code: Code
    name: Name
    address: Address
    city: Text100
    latitude: Latitude | None
    longitude: Longitude | None
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    # added with the stock ledger (defaults: devices and records of older servers omit them)
    owner_id: uuid.UUID | None = None  # a rep's van; None: a shared warehouse
    allow_backorder: bool = False


class StockBalanceRecord(msgspec.Struct, kw_only=True):
    """One product in one warehouse, as devices hold it (they compute on_hand - reserved)."""

    id: uuid.UUID
    warehouse_id: uuid.UUID
    product_id: uuid.UUID
    on_hand: decimal.Decimal
    reserved: decimal.Decimal
    version: int
    updated_at: dt.datetime


WAREHOUSE = EntityDef(name="warehouse", record=WarehouseRecord, writable=False, deletable=False)
STOCK_BALANCE = EntityDef(
    name="stock_balance", record=StockBalanceRecord, writable=False, deletable=False
)
