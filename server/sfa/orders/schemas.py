"""REST bodies and answers of the order desk."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from protocol.entities.fields import NOTES_MAX, Currency, Notes
from protocol.entities.lines import MAX_LINES

# the reasons an order can be on hold (docs/orders.md, "Hold reasons")
HoldReasonName = Literal["arrears", "credit_limit", "insufficient_stock"]
# a reason code a manager gives for rejecting an order (``customer_request``)
RejectCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class DeskNote(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A desk decision's note: kept on the order (``desk_note``) and in its transition."""

    note: Notes = ""


class DeskRelease(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Releasing a hold takes a note saying why (it overrides the customer's standing)."""

    note: Annotated[str, msgspec.Meta(min_length=1, max_length=NOTES_MAX)]


class DeskReject(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Rejecting an order: a reason code (``reject_reason``) and an optional note."""

    reason: RejectCode
    note: Notes = ""


class TransitionRecord(msgspec.Struct, kw_only=True):
    """One audited change of an order's status."""

    id: uuid.UUID
    order_id: uuid.UUID
    action: str
    from_status: str
    to_status: str
    reasons: list[str]
    note: str
    actor_id: uuid.UUID | None
    device_id: uuid.UUID | None
    created_at: dt.datetime


# what a REST client may not write: the server prices lines and totals every write
SERVER_OWNED = "server-owned: the server prices every write; sending it is refused (422)"
_Owned = Annotated[Decimal | msgspec.UnsetType, msgspec.Meta(description=SERVER_OWNED)]


class DraftLine(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A line a manager asks for: product, quantity, discount. The server prices it."""

    id: uuid.UUID | None = None
    product_id: uuid.UUID
    quantity: Decimal
    discount_pct: Decimal = Decimal(0)
    unit_price: _Owned = msgspec.UNSET
    tax_rate: _Owned = msgspec.UNSET
    price_entry_id: Annotated[
        uuid.UUID | msgspec.UnsetType, msgspec.Meta(description=SERVER_OWNED)
    ] = msgspec.UNSET


DraftLines = Annotated[list[DraftLine], msgspec.Meta(max_length=MAX_LINES)]


class OrderDraft(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A draft order created over REST (``POST /orders``), priced by the server like a sync
    write. ``owner_id`` (the order's rep) defaults to the account's owner, else the caller."""

    id: uuid.UUID | None = None
    account_id: uuid.UUID
    owner_id: uuid.UUID | None = None
    warehouse_id: uuid.UUID | None = None
    quote_id: uuid.UUID | None = None
    currency: Currency = "CNY"
    order_discount_pct: Decimal = Decimal(0)
    notes: Notes = ""
    lines: DraftLines = []
    subtotal: _Owned = msgspec.UNSET
    tax_total: _Owned = msgspec.UNSET
    total: _Owned = msgspec.UNSET


class OrderDraftPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A change of a draft order (``PATCH /orders/{id}``): only the fields sent change; the
    lines sent replace the lines (one field, as over sync)."""

    account_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    owner_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    warehouse_id: uuid.UUID | None | msgspec.UnsetType = msgspec.UNSET
    quote_id: uuid.UUID | None | msgspec.UnsetType = msgspec.UNSET
    currency: Currency | msgspec.UnsetType = msgspec.UNSET
    order_discount_pct: Decimal | msgspec.UnsetType = msgspec.UNSET
    notes: Notes | msgspec.UnsetType = msgspec.UNSET
    lines: DraftLines | msgspec.UnsetType = msgspec.UNSET
    subtotal: _Owned = msgspec.UNSET
    tax_total: _Owned = msgspec.UNSET
    total: _Owned = msgspec.UNSET
