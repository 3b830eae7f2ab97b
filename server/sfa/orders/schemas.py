"""REST bodies and answers of the order desk."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from protocol.entities.fields import NOTES_MAX, Notes

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
