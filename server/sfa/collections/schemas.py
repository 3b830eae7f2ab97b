"""REST bodies of payments, refunds, receivables and collections."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import msgspec

from protocol.entities.fields import Currency, Notes
from server.sfa.collections.models import PaymentKind


class PaymentCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /payments``: money received on one instalment.

    ``id`` (a UUIDv7 the client makes) makes the request idempotent: sent again, the payment
    already recorded is answered and nothing is recorded twice.
    """

    id: uuid.UUID | None = None
    instalment_id: uuid.UUID
    amount: decimal.Decimal
    currency: Currency
    received_on: dt.date
    note: Notes = ""


class RefundCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /payments/{id}/refunds``: money given back on a payment (a positive amount)."""

    id: uuid.UUID | None = None
    amount: decimal.Decimal
    received_on: dt.date
    note: Notes = ""


class PaymentRecord(msgspec.Struct, kw_only=True):
    """A payment (positive) or a refund (negative, ``refund_of`` names its payment)."""

    id: uuid.UUID
    kind: PaymentKind
    instalment_id: uuid.UUID
    contract_id: uuid.UUID
    account_id: uuid.UUID
    rep_id: uuid.UUID | None
    amount: decimal.Decimal
    currency: str
    refund_of: uuid.UUID | None
    refunded: decimal.Decimal
    received_on: dt.date
    note: str
    recorded_by: uuid.UUID | None
    created_at: dt.datetime


class PaymentFilters(msgspec.Struct, kw_only=True):
    """Filters of ``GET /payments`` (``received_from``/``received_to`` inclusive)."""

    contract_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    rep_id: uuid.UUID | None = None
    territory_id: uuid.UUID | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None


class ReceivableRow(msgspec.Struct, kw_only=True):
    """What one account owes in one currency, by days overdue (``GET /receivables``)."""

    account_id: uuid.UUID
    account_name: str
    owner_id: uuid.UUID | None
    territory_id: uuid.UUID | None
    currency: str
    current: decimal.Decimal
    days_1_30: decimal.Decimal
    days_31_60: decimal.Decimal
    days_61_90: decimal.Decimal
    over_90: decimal.Decimal
    overdue: decimal.Decimal
    total: decimal.Decimal
    open_instalments: int


class ReceivablePage(msgspec.Struct, kw_only=True):
    """A page of receivables (one row per account and currency), as of ``as_of``."""

    as_of: dt.date
    items: list[ReceivableRow]
    next_cursor: str | None = None


class ReceivableTotal(msgspec.Struct, kw_only=True):
    """What the matching accounts owe together in one currency."""

    currency: str
    current: decimal.Decimal
    days_1_30: decimal.Decimal
    days_31_60: decimal.Decimal
    days_61_90: decimal.Decimal
    over_90: decimal.Decimal
    overdue: decimal.Decimal
    total: decimal.Decimal
    accounts: int
    open_instalments: int


class ReceivableTotals(msgspec.Struct, kw_only=True):
    """``GET /receivables/totals``: one row per currency (a handful), as of ``as_of``."""

    as_of: dt.date
    totals: list[ReceivableTotal]


class CollectionRow(msgspec.Struct, kw_only=True):
    """Money collected for one rep in one currency over the period."""

    rep_id: uuid.UUID | None
    currency: str
    collected: decimal.Decimal  # payments
    refunded: decimal.Decimal  # refunds, as a positive amount
    net: decimal.Decimal
    payments: int


class CollectionPage(msgspec.Struct, kw_only=True):
    """Collections per rep (``GET /finance/collections``), keyset-paginated by rep."""

    items: list[CollectionRow]
    next_cursor: str | None = None
