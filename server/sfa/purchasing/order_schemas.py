"""Wire shapes of purchase orders, their receipts and shortfall proposals."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from protocol.entities.fields import AwareDateTime, Currency, Notes
from server.sfa.inputs import Version

MAX_LINES = 500
Note = Annotated[str, Meta(max_length=500)]
PurchaseOrderStatusName = Literal["draft", "ordered", "partially_received", "received", "cancelled"]


class PurchaseLineIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A product to buy: ``quantity`` > 0, ``unit_cost`` >= 0 in the order's currency."""

    product_id: uuid.UUID
    quantity: decimal.Decimal
    unit_cost: decimal.Decimal


Lines = Annotated[list[PurchaseLineIn], Meta(min_length=1, max_length=MAX_LINES)]


class PurchaseOrderCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new purchase order (a draft); ``currency`` defaults to the supplier's."""

    supplier_id: uuid.UUID
    warehouse_id: uuid.UUID
    currency: Currency | None = None
    expected_on: dt.date | None = None
    notes: Notes = ""
    lines: Lines


class PurchaseOrderPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Changes to a draft; ``lines`` replaces every line."""

    warehouse_id: uuid.UUID | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    expected_on: dt.date | None | UnsetType = UNSET
    notes: Notes | UnsetType = UNSET
    lines: Lines | UnsetType = UNSET
    version: Version | UnsetType = UNSET


class PurchaseLineRecord(msgspec.Struct, kw_only=True):
    """A line with what has been received of it."""

    id: uuid.UUID
    product_id: uuid.UUID
    quantity: decimal.Decimal
    unit_cost: decimal.Decimal
    received_quantity: decimal.Decimal


class PurchaseOrderRecord(msgspec.Struct, kw_only=True):
    """A purchase order with its lines, its ordered value and its received value."""

    id: uuid.UUID
    supplier_id: uuid.UUID
    warehouse_id: uuid.UUID
    currency: str
    status: PurchaseOrderStatusName
    expected_on: dt.date | None
    notes: str
    ordered_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    created_by: uuid.UUID | None
    lines: list[PurchaseLineRecord]
    ordered_value: decimal.Decimal
    received_value: decimal.Decimal
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ReceiptLineIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What arrived of one product of the order (> 0, at most what is still to receive)."""

    product_id: uuid.UUID
    quantity: decimal.Decimal


class ReceiptCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Goods received; ``id`` (a UUIDv7 the client picks) makes the request idempotent."""

    id: uuid.UUID | None = None
    received_at: AwareDateTime | None = None
    note: Note = ""
    lines: Annotated[list[ReceiptLineIn], Meta(min_length=1, max_length=MAX_LINES)]


class ReceiptLineRecord(msgspec.Struct, kw_only=True):
    line_id: uuid.UUID
    product_id: uuid.UUID
    quantity: decimal.Decimal
    unit_cost: decimal.Decimal


class ReceiptRecord(msgspec.Struct, kw_only=True):
    """A receipt: its lines, the inbound movements it posted and the payable it raised."""

    id: uuid.UUID
    purchase_order_id: uuid.UUID
    received_at: dt.datetime
    note: str
    created_by: uuid.UUID | None
    created_at: dt.datetime
    lines: list[ReceiptLineRecord]
    movement_ids: list[uuid.UUID]
    payable_id: uuid.UUID | None
    purchase_order_status: PurchaseOrderStatusName


class ShortfallRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What to restock in a warehouse: the shortfall of these confirmed orders, or (no
    ``order_ids``) every product whose available stock there is below zero. With ``create``
    a draft purchase order to ``supplier_id`` is made of the proposal."""

    warehouse_id: uuid.UUID
    order_ids: Annotated[list[uuid.UUID], Meta(max_length=200)] = []
    supplier_id: uuid.UUID | None = None
    create: bool = False


class ShortfallLine(msgspec.Struct, kw_only=True):
    """A product to buy; ``unit_cost`` is the supplier's last one for it (0 when none)."""

    product_id: uuid.UUID
    quantity: decimal.Decimal
    unit_cost: decimal.Decimal


class ShortfallResult(msgspec.Struct, kw_only=True):
    lines: list[ShortfallLine]
    purchase_order: PurchaseOrderRecord | None = None
