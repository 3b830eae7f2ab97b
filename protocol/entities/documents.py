"""The ``quote`` and ``order`` records: one record each with its lines.

The server prices every line of a draft on every write (``rules.document_pricing``, from the
account's price lists) and the SDK prices the same way offline; totals are a pure function of
the priced lines and the order-level discount (``rules.document_pricing.totals_of_lines``).
A document whose discount is above its seller's authority waits in ``pending_approval``
(``approval_*`` fields; docs/pricing.md, "Discount authority").
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

import msgspec

from protocol.entities.definition import ENGINE_FIELDS, EntityDef, NoParams
from protocol.entities.fields import AwareDateTime, Currency, DocumentNumber, Notes, ReasonCode
from protocol.entities.lines import MAX_LINES, Line
from protocol.entities.visits import CancelParams

CENT = Decimal("0.01")
TOTAL_FIELDS = frozenset({"subtotal", "tax_total", "total"})
# set by the discount approval (a manager's decision over REST), never by a device
APPROVAL_FIELDS = frozenset(
    {"approval_reason", "approval_note", "approval_fingerprint", "approved_by", "approved_at"}
)
Lines = Annotated[list[Line], msgspec.Meta(max_length=MAX_LINES)]
ApprovalFingerprint = Annotated[str, msgspec.Meta(max_length=64)]
HoldReasons = Annotated[list[ReasonCode], msgspec.Meta(max_length=8)]
# set by the order desk (a manager's decision over REST) or the submission checks
DESK_FIELDS = frozenset({"hold_reasons", "hold_overrides", "desk_note", "fulfilled_at"})


class QuoteStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"


class OrderStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    ON_HOLD = "on_hold"
    REJECTED = "rejected"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class QuoteRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A quote with its lines on the wire."""

    id: uuid.UUID
    version: int = 1
    account_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    number: DocumentNumber = ""
    status: QuoteStatus = QuoteStatus.DRAFT
    currency: Currency = "CNY"
    valid_until: dt.date | None = None
    lines: Lines = []
    order_discount_pct: Decimal = Decimal(0)
    approval_reason: ReasonCode | None = None
    approval_note: Notes = ""
    approval_fingerprint: ApprovalFingerprint | None = None
    approved_by: uuid.UUID | None = None
    approved_at: AwareDateTime | None = None
    subtotal: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    notes: Notes = ""
    created_at: AwareDateTime | None = None
    updated_at: AwareDateTime | None = None
    # the order ``quote.convert`` made of this quote (set once, by the server)
    order_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        _in_cents(self)


class OrderRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An order with its lines on the wire."""

    id: uuid.UUID
    version: int = 1
    account_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    quote_id: uuid.UUID | None = None
    status: OrderStatus = OrderStatus.DRAFT
    # the first of ``hold_reasons`` (older clients read only this one)
    hold_reason: ReasonCode | None = None
    reject_reason: ReasonCode | None = None
    warehouse_id: uuid.UUID | None = None
    currency: Currency = "CNY"
    lines: Lines = []
    order_discount_pct: Decimal = Decimal(0)
    approval_reason: ReasonCode | None = None
    approval_note: Notes = ""
    approval_fingerprint: ApprovalFingerprint | None = None
    approved_by: uuid.UUID | None = None
    approved_at: AwareDateTime | None = None
    subtotal: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    submitted_at: AwareDateTime | None = None
    notes: Notes = ""
    created_at: AwareDateTime | None = None
    updated_at: AwareDateTime | None = None
    # the order desk (docs/orders.md): every reason an order is on hold, the reasons a manager
    # released (not checked again), the note of the desk's last decision, the fulfilment time
    hold_reasons: HoldReasons = []
    hold_overrides: HoldReasons = []
    desk_note: Notes = ""
    fulfilled_at: AwareDateTime | None = None

    def __post_init__(self) -> None:
        _in_cents(self)


def _in_cents(document: QuoteRecord | OrderRecord) -> None:
    # Totals travel in cents, the same string on SQLite and PostgreSQL (NUMERIC(18, 4) stores
    # four places); their value is computed from the lines by ``rules.pricing``.
    for name in TOTAL_FIELDS:
        value = getattr(document, name)
        if value.is_finite():
            setattr(document, name, value.quantize(CENT, rounding=ROUND_HALF_UP))


class ConvertParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``quote.convert``: the id the device picked for the new order, and optionally the
    warehouse it ships from."""

    order_id: uuid.UUID
    warehouse_id: uuid.UUID | None = None


class SubmitParams(msgspec.Struct, forbid_unknown_fields=True):
    """``order.submit`` takes no parameters: the server decides from its own records."""


QUOTE = EntityDef(
    name="quote",
    record=QuoteRecord,
    deletable_from=frozenset({QuoteStatus.DRAFT.value}),  # what the customer saw is history
    server_fields=ENGINE_FIELDS | {"status", "order_id"} | TOTAL_FIELDS | APPROVAL_FIELDS,
    actions={
        "send": NoParams,
        "accept": NoParams,
        "reject": NoParams,
        "convert": ConvertParams,
    },
)
ORDER = EntityDef(
    name="order",
    record=OrderRecord,
    deletable_from=frozenset({OrderStatus.DRAFT.value}),  # past draft: stock, audit (cancel it)
    server_fields=ENGINE_FIELDS
    | TOTAL_FIELDS
    | APPROVAL_FIELDS
    | DESK_FIELDS
    | {"status", "hold_reason", "reject_reason", "submitted_at"},
    actions={"submit": SubmitParams, "cancel": CancelParams},
)
