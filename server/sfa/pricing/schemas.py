"""REST bodies of discount approvals and discount limits."""

from __future__ import annotations

import decimal
import uuid

import msgspec

from protocol.entities.fields import Notes


class Decision(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A manager's decision on a document waiting for approval; the note is kept on it."""

    note: Notes = ""


class DiscountLimitSet(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The maximum discount (percent, 0..100) of a role or of one user (an override)."""

    max_discount_pct: decimal.Decimal  # 0..100, checked by the service


class DiscountLimitRecord(msgspec.Struct, kw_only=True):
    """One limit in force: of a role (``user_id`` null) or of one user."""

    role: str | None
    user_id: uuid.UUID | None
    max_discount_pct: decimal.Decimal
