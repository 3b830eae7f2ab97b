"""REST bodies of contracts, their notes, attachments and payment schedule."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from protocol.entities.contracts import ContractRecord, ContractStatus, InstalmentRecord
from protocol.entities.fields import Currency, Name, Notes, Title
from server.sfa.inputs import Version

__all__ = ["ContractRecord", "InstalmentRecord"]

MAX_INSTALMENTS = 120
MAX_ORDERS = 100


class ContractCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /contracts``: from an accepted quote, from confirmed orders, or blank.

    From a quote or orders, ``account_id``, ``value`` and ``currency`` default to theirs; a
    blank contract needs all three.
    """

    account_id: uuid.UUID | None = None
    quote_id: uuid.UUID | None = None
    order_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=MAX_ORDERS)] = []
    signing_contact_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None  # the rep credited; default: the account's owner
    title: Title = ""
    value: decimal.Decimal | None = None
    currency: Currency | None = None
    start_date: dt.date
    end_date: dt.date


class ContractPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /contracts/{id}``: only the fields sent change; ``status`` moves by its rules."""

    title: Title | UnsetType = UNSET
    signing_contact_id: uuid.UUID | None | UnsetType = UNSET
    owner_id: uuid.UUID | None | UnsetType = UNSET
    value: decimal.Decimal | UnsetType = UNSET
    start_date: dt.date | UnsetType = UNSET
    end_date: dt.date | UnsetType = UNSET
    status: ContractStatus | UnsetType = UNSET
    version: Version | UnsetType = UNSET


class ContractFilters(msgspec.Struct, kw_only=True):
    """Filters of ``GET /contracts``; ``period_from``/``period_to`` keep contracts whose
    [start, end] overlaps the period."""

    account_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    territory_id: uuid.UUID | None = None
    status: ContractStatus | None = None
    period_from: dt.date | None = None
    period_to: dt.date | None = None


class NoteCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /contracts/{id}/notes``: a dated progress note."""

    noted_on: dt.date
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]


class NoteRecord(msgspec.Struct, kw_only=True):
    """A progress note."""

    id: uuid.UUID
    contract_id: uuid.UUID
    noted_on: dt.date
    text: Notes
    author_id: uuid.UUID | None
    created_at: dt.datetime


class InstalmentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One instalment of a schedule; its currency, when sent, must be the contract's."""

    due_date: dt.date
    amount: decimal.Decimal
    currency: Currency | None = None


class ScheduleSet(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``PUT /contracts/{id}/schedule``: the whole schedule; amounts sum to the value."""

    instalments: Annotated[
        list[InstalmentIn], msgspec.Meta(min_length=1, max_length=MAX_INSTALMENTS)
    ]


class AttachmentRecord(msgspec.Struct, kw_only=True):
    """A file attached to a contract (its bytes at ``.../content``)."""

    id: uuid.UUID
    contract_id: uuid.UUID
    filename: Name
    content_type: str
    size: int
    sha256: str
    uploaded_by: uuid.UUID | None
    created_at: dt.datetime
