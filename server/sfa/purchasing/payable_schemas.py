"""Wire shapes of payables, their ageing and the payments made against them."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Annotated

import msgspec
from msgspec import Meta

from protocol.entities.fields import Currency
from rules.ageing import Bucket

Note = Annotated[str, Meta(max_length=500)]


class PayableRecord(msgspec.Struct, kw_only=True):
    """What is owed to a supplier for one receipt, and how overdue it is on ``as_of``."""

    id: uuid.UUID
    supplier_id: uuid.UUID
    purchase_order_id: uuid.UUID
    receipt_id: uuid.UUID
    currency: str
    amount: decimal.Decimal
    paid: decimal.Decimal
    outstanding: decimal.Decimal
    settled: bool
    issued_on: dt.date
    due_on: dt.date
    days_overdue: int
    bucket: Bucket
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class AgeingTotals(msgspec.Struct, kw_only=True):
    """Outstanding amounts of one currency per ageing bucket (days overdue) and in all."""

    currency: str
    current: decimal.Decimal
    days_1_30: decimal.Decimal
    days_31_60: decimal.Decimal
    days_61_90: decimal.Decimal
    over_90: decimal.Decimal
    total: decimal.Decimal
    count: int


class PayablePage(msgspec.Struct, kw_only=True):
    """A page of payables, with the totals of every payable the filters select (all pages)."""

    items: list[PayableRecord]
    next_cursor: str | None = None
    as_of: dt.date
    totals: list[AgeingTotals]


class PaymentCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A payment made: ``amount`` > 0 in the payable's currency, at most what is outstanding.
    ``id`` (a UUIDv7 the client picks) makes the request idempotent."""

    id: uuid.UUID | None = None
    amount: decimal.Decimal
    currency: Currency
    paid_on: dt.date | None = None
    reference: Annotated[str, Meta(max_length=100)] = ""
    note: Note = ""


class PaymentRecord(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    payable_id: uuid.UUID
    amount: decimal.Decimal
    currency: str
    paid_on: dt.date
    reference: str
    note: str
    created_by: uuid.UUID | None
    created_at: dt.datetime


class PaymentResult(msgspec.Struct, kw_only=True):
    """The payment and the payable after it."""

    payment: PaymentRecord
    payable: PayableRecord
