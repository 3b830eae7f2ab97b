"""The ``expense`` record: one expense report of a rep, with its lines (private to its owner).

A rep creates and edits a report offline while it is a draft (or after a refusal), then
submits it (``expense.submit``); the rep's manager approves or refuses it over REST with a
note, and the decision syncs back to the device.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Annotated

import msgspec

from protocol.entities.definition import ENGINE_FIELDS, EntityDef, NoParams
from protocol.entities.fields import AwareDateTime, Currency, Notes, Reason, Title

MAX_EXPENSE_LINES = 200
MAX_AMOUNT_DIGITS = 14  # before the point, like every stored money value
AMOUNT_PLACES = 4


class ExpenseCategory(enum.StrEnum):
    """What an expense was for (docs/purchasing.md lists them)."""

    TRAVEL = "travel"
    LODGING = "lodging"
    MEALS = "meals"
    FUEL = "fuel"
    TRANSPORT = "transport"
    ENTERTAINMENT = "entertainment"
    SAMPLES = "samples"
    COMMUNICATION = "communication"
    OFFICE = "office"
    OTHER = "other"


class ExpenseStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REFUSED = "refused"


class ExpenseLine(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One expense: when, what for, how much in which currency, and its receipt (an
    attachment id, optional)."""

    id: uuid.UUID
    date: dt.date
    category: ExpenseCategory
    amount: Decimal
    currency: Currency
    note: Reason = ""
    receipt_attachment_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        # msgspec cannot constrain Decimal fields; a ValueError here names the field.
        if not self.amount.is_finite() or self.amount <= 0:
            raise ValueError("amount must be greater than 0")
        exponent = self.amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -AMOUNT_PLACES:
            raise ValueError(f"amount must have at most {AMOUNT_PLACES} decimal places")
        if self.amount.adjusted() >= MAX_AMOUNT_DIGITS:
            raise ValueError("amount is too large")


class ExpenseRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An expense report on the wire."""

    id: uuid.UUID
    version: int = 1
    owner_id: uuid.UUID | None = None
    title: Title = ""
    status: ExpenseStatus = ExpenseStatus.DRAFT
    lines: Annotated[list[ExpenseLine], msgspec.Meta(max_length=MAX_EXPENSE_LINES)] = []
    notes: Notes = ""
    submitted_at: AwareDateTime | None = None
    decided_by: uuid.UUID | None = None
    decided_at: AwareDateTime | None = None
    decision_note: Notes = ""
    created_at: AwareDateTime | None = None
    updated_at: AwareDateTime | None = None


# set by the server: the status moves through ``submit`` and the manager's decision (REST)
DECISION_FIELDS = frozenset({"status", "submitted_at", "decided_by", "decided_at", "decision_note"})

# owner_id: sent on create (the pusher), frozen afterwards (the server's validator polices it);
# not deletable: a report is financial history (an unwanted draft is left unsubmitted)
EXPENSE = EntityDef(
    name="expense",
    record=ExpenseRecord,
    deletable=False,
    server_fields=ENGINE_FIELDS | DECISION_FIELDS,
    actions={"submit": NoParams},
)
