"""The read-only ``contract``, ``instalment`` and ``receivable`` records devices hold.

Contracts, their payment schedules and collections are written by managers and the back office
over REST; a rep's device receives, read-only, the contracts of the accounts it holds, each
instalment's status and what each account owes by ageing bucket (docs/finance.md).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

import msgspec

from protocol.entities.definition import EntityDef
from protocol.entities.fields import Currency, Title


class ContractStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class InstalmentStatus(enum.StrEnum):
    OPEN = "open"  # something is still due
    PAID = "paid"  # nothing is due any more


class ContractRecord(msgspec.Struct, kw_only=True):
    """A contract's summary: its parties, value, what was collected and what is outstanding."""

    id: uuid.UUID
    account_id: uuid.UUID
    owner_id: uuid.UUID | None  # the rep the contract is credited to
    signing_contact_id: uuid.UUID | None
    quote_id: uuid.UUID | None
    title: Title
    status: ContractStatus
    value: decimal.Decimal
    currency: Currency
    collected: decimal.Decimal  # payments less refunds
    outstanding: decimal.Decimal  # value less collected
    start_date: dt.date
    end_date: dt.date
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class InstalmentRecord(msgspec.Struct, kw_only=True):
    """One due date of a contract's payment schedule and how much of it is paid."""

    id: uuid.UUID
    contract_id: uuid.UUID
    account_id: uuid.UUID
    seq: int  # 1, 2, ... in due-date order
    due_date: dt.date
    amount: decimal.Decimal
    paid: decimal.Decimal
    outstanding: decimal.Decimal
    currency: Currency
    status: InstalmentStatus
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ReceivableRecord(msgspec.Struct, kw_only=True):
    """What one account owes in one currency, by days overdue, as of ``as_of``."""

    id: uuid.UUID
    account_id: uuid.UUID
    currency: Currency
    as_of: dt.date
    current: decimal.Decimal  # not yet due
    days_1_30: decimal.Decimal
    days_31_60: decimal.Decimal
    days_61_90: decimal.Decimal
    over_90: decimal.Decimal
    overdue: decimal.Decimal  # the four overdue buckets
    total: decimal.Decimal  # everything still open
    version: int
    updated_at: dt.datetime


CONTRACT = EntityDef(name="contract", record=ContractRecord, writable=False, deletable=False)
INSTALMENT = EntityDef(name="instalment", record=InstalmentRecord, writable=False, deletable=False)
RECEIVABLE = EntityDef(name="receivable", record=ReceivableRecord, writable=False, deletable=False)
