"""Commission plans: rates per category, tiers on quota attainment, caps, SPIFFs, and their dates.

A plan is pure data that the server stores and syncs to the rep's device, so the SDK previews an
order's commission with the same code that computes the statement (``rules.commissions``).
Percentages are ``Decimal`` percent (``Decimal("5")`` is 5 %). See docs/commissions.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import msgspec

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

# "whole": the whole period's credit earns at the tier the attainment has reached (crossing into
# a tier trues up what was earned before it); "bands": each part of the credit earns at the
# multiplier of the band of attainment it falls in, like income-tax brackets.
TierStyle = Literal["whole", "bands"]
# what earns: the order's confirmation, or the payment collected against it
EarnEvent = Literal["order_confirmed", "payment_collected"]
PeriodLength = Literal["month", "quarter"]


class PlanInvalid(ValueError):
    """A plan that cannot be used; ``field`` names the offending value (``tiers.1.from_pct``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class Tier(msgspec.Struct, frozen=True, kw_only=True):
    """From ``from_pct`` of quota attainment (inclusive) up to the next tier, rates are multiplied.

    A multiplier of 0 below some attainment is a threshold; above 1 past 100 % an accelerator.
    """

    name: str
    from_pct: Decimal
    multiplier: Decimal


class Spiff(msgspec.Struct, frozen=True, kw_only=True):
    """A fixed bonus per unit of one product sold between two days (both inclusive)."""

    product_id: uuid.UUID
    amount_per_unit: Decimal
    starts_on: dt.date
    ends_on: dt.date

    def applies(self, product_id: uuid.UUID | None, day: dt.date) -> bool:
        """Whether a unit of ``product_id`` credited on ``day`` earns this bonus."""
        return product_id == self.product_id and self.starts_on <= day <= self.ends_on


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """A commission plan for a role or one rep, valid from a day (and until one when replaced)."""

    id: uuid.UUID
    name: str
    valid_from: dt.date
    valid_to: dt.date | None = None  # exclusive: the day its successor starts
    role: str | None = None  # a plan is for a role, or for one rep (``rep_id``)
    rep_id: uuid.UUID | None = None
    earns_on: EarnEvent = "order_confirmed"
    quota: Decimal
    default_rate_pct: Decimal = Decimal(0)
    category_rates_pct: dict[str, Decimal] = msgspec.field(default_factory=dict)
    tier_style: TierStyle = "whole"
    tiers: tuple[Tier, ...] = (Tier(name="base", from_pct=Decimal(0), multiplier=Decimal(1)),)
    cap: Decimal | None = None  # most that rate earnings pay in one period (SPIFFs are outside)
    spiffs: tuple[Spiff, ...] = ()
    overlay_rate_pct: Decimal | None = None  # a manager's rate on their team's credit

    def rate_for(self, category: str | None) -> Decimal:
        """The base rate (percent) of a product category, or the plan's default."""
        if category is not None and category in self.category_rates_pct:
            return self.category_rates_pct[category]
        return self.default_rate_pct

    def tier_at(self, attainment_pct: Decimal) -> Tier:
        """The tier an attainment is in: the last whose ``from_pct`` is not above it."""
        reached = self.tiers[0]
        for tier in self.tiers[1:]:
            if tier.from_pct > attainment_pct:
                break
            reached = tier
        return reached

    def in_force(self, day: dt.date) -> bool:
        """Whether the plan is valid on ``day``."""
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


def _finite(value: Decimal) -> bool:
    return value.is_finite()


def validate_plan(plan: Plan) -> Plan:
    """``plan`` if it is usable; otherwise ``PlanInvalid`` naming the field."""
    if (plan.role is None) == (plan.rep_id is None):
        raise PlanInvalid("a plan is for a role or for one rep, not both or neither", "role")
    if plan.valid_to is not None and plan.valid_to <= plan.valid_from:
        raise PlanInvalid("valid_to must be after valid_from", "valid_to")
    if not (_finite(plan.quota) and plan.quota > 0):
        raise PlanInvalid("the quota must be above zero", "quota")
    rates = {"default_rate_pct": plan.default_rate_pct} | {
        f"category_rates_pct.{name}": rate for name, rate in plan.category_rates_pct.items()
    }
    for field, rate in rates.items():
        if not (_finite(rate) and 0 <= rate <= 100):
            raise PlanInvalid("a rate must be between 0 and 100 percent", field)
    if not plan.tiers or plan.tiers[0].from_pct != 0:
        raise PlanInvalid("the first tier must start at 0 % attainment", "tiers.0.from_pct")
    for index, tier in enumerate(plan.tiers):
        if not (_finite(tier.multiplier) and 0 <= tier.multiplier <= 10):
            raise PlanInvalid("a multiplier must be between 0 and 10", f"tiers.{index}.multiplier")
        if index and not (
            _finite(tier.from_pct) and tier.from_pct > plan.tiers[index - 1].from_pct
        ):
            raise PlanInvalid(
                "tiers must start at increasing attainment", f"tiers.{index}.from_pct"
            )
    if plan.cap is not None and not (_finite(plan.cap) and plan.cap >= 0):
        raise PlanInvalid("the cap must not be negative", "cap")
    if plan.overlay_rate_pct is not None and not (
        _finite(plan.overlay_rate_pct) and 0 <= plan.overlay_rate_pct <= 100
    ):
        raise PlanInvalid("the overlay rate must be between 0 and 100 percent", "overlay_rate_pct")
    for index, spiff in enumerate(plan.spiffs):
        if not (_finite(spiff.amount_per_unit) and spiff.amount_per_unit >= 0):
            raise PlanInvalid("a SPIFF must not be negative", f"spiffs.{index}.amount_per_unit")
        if spiff.ends_on < spiff.starts_on:
            raise PlanInvalid("a SPIFF must end on or after it starts", f"spiffs.{index}.ends_on")
    return plan


def period_of(day: dt.date, length: PeriodLength = "month") -> str:
    """The period a day falls in: ``2026-12`` for a month, ``2026-Q4`` for a quarter."""
    if length == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}-{day.month:02d}"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """The first day of a period and the first day after it."""
    year_text, _, rest = period.partition("-")
    year = int(year_text)
    if rest.startswith("Q"):
        first_month, months = (int(rest[1:]) - 1) * 3 + 1, 3
    else:
        first_month, months = int(rest), 1
    if not 1 <= first_month <= 12:
        raise ValueError(f"not a period: {period!r}")
    start = dt.date(year, first_month, 1)
    end_month = first_month + months
    end = dt.date(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return start, end


def plan_for(plans: Iterable[Plan], *, rep_id: uuid.UUID, role: str, period: str) -> Plan | None:
    """The plan that governs a rep's period: the one in force on the period's first day, the
    rep's own plan before their role's (a plan dated mid-period governs from the next period)."""
    start, _ = period_bounds(period)
    own = role_plan = None
    for plan in plans:
        if not plan.in_force(start):
            continue
        if plan.rep_id == rep_id:
            own = plan
        elif plan.rep_id is None and plan.role == role:
            role_plan = plan
    return own or role_plan


def split_credit(
    amount: Decimal, shares: Sequence[tuple[uuid.UUID, Decimal]]
) -> dict[uuid.UUID, Decimal]:
    """``amount`` split between reps by percent shares summing to 100, in cents that sum exactly
    to the whole: each share is rounded down and the cents left over go, one each, to the largest
    remainders (ties to the earlier share)."""
    if not shares:
        raise PlanInvalid("an order's credit needs at least one rep", "shares")
    total_pct = sum((pct for _, pct in shares), Decimal(0))
    if total_pct != HUNDRED:
        raise PlanInvalid("credit shares must sum to 100 percent", "shares")
    seen: set[uuid.UUID] = set()
    for index, (rep_id, pct) in enumerate(shares):
        if not (pct.is_finite() and 0 < pct <= 100):
            raise PlanInvalid("a share must be above 0 and at most 100 percent", f"shares.{index}")
        if rep_id in seen:
            raise PlanInvalid("a rep appears twice in the shares", f"shares.{index}")
        seen.add(rep_id)
    cents = int((abs(amount) / CENT).to_integral_value(rounding=ROUND_HALF_UP))
    sign = -1 if amount < 0 else 1
    exact = [Decimal(cents) * pct / HUNDRED for _, pct in shares]
    floors = [int(value) for value in exact]  # non-negative: int() rounds down
    left = cents - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return {
        rep_id: Decimal(sign * count) * CENT
        for (rep_id, _), count in zip(shares, floors, strict=True)
    }
