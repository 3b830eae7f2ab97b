"""Wire shapes of the commission REST endpoints: plans, splits, statements, disputes."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Annotated, Literal

import msgspec

from protocol.entities.fields import Notes
from rules.commission_plans import EarnEvent, Spiff, Tier, TierStyle
from rules.commissions import StatementLine

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
# why a rep disputes a line (docs/commissions.md)
DisputeReason = Literal[
    "wrong_rate", "wrong_split", "missing_credit", "wrong_amount", "wrong_clawback", "other"
]


BASE_TIER = Tier(name="base", from_pct=decimal.Decimal(0), multiplier=decimal.Decimal(1))


class PlanInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new plan (or a successor: the plan in force for the same role or rep ends the day this
    one starts)."""

    name: Name
    valid_from: dt.date
    role: Literal["rep", "manager"] | None = None
    rep_id: uuid.UUID | None = None
    earns_on: EarnEvent = "order_confirmed"
    quota: decimal.Decimal
    default_rate_pct: decimal.Decimal = decimal.Decimal(0)
    category_rates_pct: dict[str, decimal.Decimal] = {}
    tier_style: TierStyle = "whole"
    tiers: list[Tier] = msgspec.field(default_factory=lambda: [BASE_TIER])
    cap: decimal.Decimal | None = None
    spiffs: list[Spiff] = []
    overlay_rate_pct: decimal.Decimal | None = None


class PlanRecord(msgspec.Struct, kw_only=True):
    """A stored plan with its definition."""

    id: uuid.UUID
    name: str
    role: str | None
    rep_id: uuid.UUID | None
    valid_from: dt.date
    valid_to: dt.date | None
    replaces: uuid.UUID | None
    definition: dict[str, object]
    created_by: uuid.UUID | None
    created_at: dt.datetime


class Share(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    rep_id: uuid.UUID
    share_pct: decimal.Decimal


class SplitInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An order's credit shares (summing to 100)."""

    shares: Annotated[list[Share], msgspec.Meta(min_length=1, max_length=20)]


class SplitChange(msgspec.Struct, kw_only=True):
    before: list[Share] | None
    after: list[Share]
    actor_id: uuid.UUID | None
    created_at: dt.datetime


class SplitRecord(msgspec.Struct, kw_only=True):
    """An order's shares (the owner's 100 % when never split) and the trail of changes."""

    order_id: uuid.UUID
    shares: list[Share]
    changes: list[SplitChange]


class StatementLineRecord(StatementLine, frozen=True, kw_only=True):
    """One numbered line of a stored statement."""

    no: int


class StatementRecord(msgspec.Struct, kw_only=True):
    """A rep's statement of one period."""

    id: uuid.UUID
    rep_id: uuid.UUID
    period: str
    status: Literal["open", "closed", "approved"]
    plan_id: uuid.UUID
    total: decimal.Decimal
    lines: list[StatementLineRecord]
    attainment: dict[str, object]
    by_category: dict[str, decimal.Decimal]
    by_tier: dict[str, decimal.Decimal]
    computed_at: dt.datetime
    closed_at: dt.datetime | None
    approved_by: uuid.UUID | None
    approved_at: dt.datetime | None
    version: int


class ComputeInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Compute (or refresh) the open statements of a period, of one rep or all in scope."""

    period: str
    rep_id: uuid.UUID | None = None


class DisputeInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    line_no: Annotated[int, msgspec.Meta(ge=1)]
    reason: DisputeReason
    note: Notes = ""


class DisputeAccept(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The adjustment (positive pays the rep more) posted to the rep's current open period."""

    adjustment: decimal.Decimal
    note: Notes = ""


class DisputeRefuse(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class DisputeRecord(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    statement_id: uuid.UUID
    line_no: int
    rep_id: uuid.UUID
    reason: str
    note: str
    status: Literal["open", "accepted", "refused"]
    resolution_note: str
    adjustment: decimal.Decimal | None
    adjustment_period: str | None
    resolved_by: uuid.UUID | None
    resolved_at: dt.datetime | None
    created_at: dt.datetime
