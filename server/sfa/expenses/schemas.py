"""Wire shapes of the expense REST endpoints: the decision and approved totals."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import msgspec

from protocol.entities.expenses import ExpenseRecord
from protocol.entities.fields import Notes

__all__ = ["ExpenseDecision", "ExpenseRecord", "RepTotals"]


class ExpenseDecision(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A manager's approval or refusal, with a note for the rep."""

    note: Notes = ""


class CurrencyTotal(msgspec.Struct, kw_only=True):
    currency: str
    amount: decimal.Decimal
    lines: int


class RepTotals(msgspec.Struct, kw_only=True):
    """What was approved for one rep in the period (expense dates), per currency."""

    owner_id: uuid.UUID
    reports: int
    totals: list[CurrencyTotal]


class ReceiptRecord(msgspec.Struct, kw_only=True):
    """A receipt file of a rep's expense lines (its bytes at ``.../content``)."""

    id: uuid.UUID
    owner_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime
