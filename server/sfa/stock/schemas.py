"""Wire shapes of warehouses, stock balances, movements and stocktakes."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from protocol.entities.fields import Address, Code, Latitude, Longitude, Name
from protocol.entities.fields import Text100 as City
from protocol.entities.stock import StockBalanceRecord, WarehouseRecord
from server.sfa.inputs import Version

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
    owner_id: uuid.UUID | None = None
    allow_backorder: bool = False


class WarehousePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    city: City | UnsetType = UNSET
    latitude: Latitude | None | UnsetType = UNSET
    longitude: Longitude | None | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    owner_id: uuid.UUID | None | UnsetType = UNSET
    allow_backorder: bool | UnsetType = UNSET
    version: Version | UnsetType = UNSET


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


Note = Annotated[str, Meta(max_length=500)]
PostedKind = Literal["initial", "inbound", "outbound", "transfer", "adjustment"]
ReferenceKindName = Literal["order", "purchase_receipt", "stocktake", "transfer", "other"]


class MovementCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A movement to post. ``quantity`` > 0, except an adjustment's, which is the signed
    change of on hand (not 0). A transfer names ``to_warehouse_id``. ``id`` (a UUIDv7 the
    client picks) makes the request idempotent: repeating it returns the first result."""

    id: uuid.UUID | None = None
    kind: PostedKind
    warehouse_id: uuid.UUID
    product_id: uuid.UUID
    quantity: decimal.Decimal
    to_warehouse_id: uuid.UUID | None = None
    reference_kind: ReferenceKindName | None = None
    reference_id: uuid.UUID | None = None
    note: Note = ""


class BalanceSet(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Set on hand to a figure: posted as an adjustment of the difference."""

    on_hand: decimal.Decimal
    note: Note = ""


class StocktakeLineIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    product_id: uuid.UUID
    counted: decimal.Decimal


class StocktakeCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Counts of a warehouse; each line posts ``counted - expected`` as a stocktake movement."""

    id: uuid.UUID | None = None
    warehouse_id: uuid.UUID
    lines: Annotated[list[StocktakeLineIn], Meta(min_length=1, max_length=1000)]
    note: Note = ""


class MovementRecord(msgspec.Struct, kw_only=True):
    """A ledger row: ``quantity`` is the signed change of on hand it posted."""

    id: uuid.UUID
    kind: str
    warehouse_id: uuid.UUID
    product_id: uuid.UUID
    quantity: decimal.Decimal
    on_hand_after: decimal.Decimal
    transfer_id: uuid.UUID | None
    counterpart_warehouse_id: uuid.UUID | None
    expected: decimal.Decimal | None
    counted: decimal.Decimal | None
    reference_kind: str | None
    reference_id: uuid.UUID | None
    note: str
    created_by: uuid.UUID | None
    created_at: dt.datetime


class MovementResult(msgspec.Struct, kw_only=True):
    """The ledger rows a request posted (two for a transfer) and the balances after."""

    movements: list[MovementRecord]
    balances: list[StockBalanceOut]


class StocktakeResult(msgspec.Struct, kw_only=True):
    """A stocktake, its lines as ledger rows, and the balances after."""

    id: uuid.UUID
    warehouse_id: uuid.UUID
    note: str
    created_by: uuid.UUID | None
    created_at: dt.datetime
    movements: list[MovementRecord]
    balances: list[StockBalanceOut]
