"""Commission statements: what each credit earned, why, and what a reversal claws back.

A period's statement is a pure function of its plan and its events, so recomputing it gives the
same lines (idempotent), and the SDK previews a draft order with the same ``earn`` step the
statement is folded from. The rules (rounding, tier styles, caps, clawbacks) are written in
docs/commissions.md:

- credits are taken in time order; each credited line earns ``amount x rate x multiplier``;
- ``whole`` tiers pay the line at the tier its attainment reached and, on crossing into a tier
  with another multiplier, true up everything earned before at the new multiplier; ``bands`` tiers
  pay each part of the line at the multiplier of the band it falls in;
- every line is rounded half-up to the cent; the statement's total is the sum of its lines;
- a cap limits what rate earnings pay in the period (SPIFFs are outside it), by a ``cap`` line;
- a reversal (cancelled order, refund) claws back its marginal earning: the period total of the
  credit's own period with the reversal applied, minus without it; the line is posted in the
  period of the reversal, linked to the credit, and does not change that period's attainment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import msgspec

from rules.commission_plans import CENT, HUNDRED, Plan, Tier

ZERO = Decimal("0.00")
CreditSource = Literal["order", "payment"]
ReversalSource = Literal["cancellation", "refund"]
LineKind = Literal["commission", "tier_true_up", "cap", "spiff", "clawback", "adjustment"]


def cents(value: Decimal) -> Decimal:
    """``value`` rounded half-up to the cent."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class CreditLine(msgspec.Struct, frozen=True, kw_only=True):
    """The part of one order line credited to one rep (its share of the amount and units)."""

    line_id: uuid.UUID
    category: str | None
    product_id: uuid.UUID | None = None
    full_amount: Decimal  # the line's net amount before the split
    share_pct: Decimal = HUNDRED
    amount: Decimal  # credited to this rep: full_amount split by share_pct, in cents
    quantity: Decimal = Decimal(0)  # this rep's share of the units (for SPIFFs)


class Credit(msgspec.Struct, frozen=True, kw_only=True):
    """An event that earns: an order confirmed, or a payment collected, credited to one rep."""

    id: uuid.UUID  # the order's or the payment's id
    source: CreditSource
    at: dt.datetime
    day: dt.date  # the event's day in the company's time zone (SPIFF windows, periods)
    lines: tuple[CreditLine, ...]
    overlay: bool = False  # a team member's credit counted for their manager (the overlay rate)


def rate_of(plan: Plan, credit: Credit, line: CreditLine) -> Decimal:
    """The base rate (percent) a credited line earns: the overlay rate for a manager's overlay
    credit (zero when the plan has none), else its category's."""
    if credit.overlay:
        return plan.overlay_rate_pct or Decimal(0)
    return plan.rate_for(line.category)


class Reversal(msgspec.Struct, frozen=True, kw_only=True):
    """A cancellation or a refund of a credit, whole (``fraction`` 1) or in part."""

    id: uuid.UUID
    source: ReversalSource
    at: dt.datetime
    credit_id: uuid.UUID
    fraction: Decimal = Decimal(1)


class Attainment(msgspec.Struct, frozen=True, kw_only=True):
    """A rep's running position in a period: what the next credit earns depends only on this.

    Synced to the device (with the plan) so the SDK previews a draft order offline.
    """

    period: str
    credited: Decimal = ZERO  # credit counted towards the quota so far
    base_earned: Decimal = Decimal(0)  # exact sum of amount x rate, before multipliers
    rate_earned: Decimal = ZERO  # commission and true-up lines so far, before the cap
    spiffs: Decimal = ZERO

    def attainment_pct(self, plan: Plan) -> Decimal:
        """Credited so far against the quota, in percent."""
        return self.credited * HUNDRED / plan.quota

    def paid(self, plan: Plan) -> Decimal:
        """What the period pays so far: rate earnings within the cap, plus SPIFFs."""
        rate = self.rate_earned if plan.cap is None else min(plan.cap, self.rate_earned)
        return rate + self.spiffs


class StatementLine(msgspec.Struct, frozen=True, kw_only=True):
    """One explained figure of a statement."""

    kind: LineKind
    source: str  # order, payment, cancellation, refund, spiff, cap, tier
    source_id: uuid.UUID | None
    line_id: uuid.UUID | None = None
    reverses: uuid.UUID | None = None  # the credit a clawback reverses
    category: str | None = None
    tier: str | None = None
    rate_pct: Decimal | None = None
    multiplier: Decimal | None = None
    attainment_pct: Decimal  # after the event, rounded to 0.01
    credited: Decimal = ZERO
    amount: Decimal
    rule: str


class Statement(msgspec.Struct, frozen=True, kw_only=True):
    """A rep's lines of a period with totals per category and tier."""

    period: str
    plan_id: uuid.UUID
    lines: tuple[StatementLine, ...]
    attainment: Attainment
    total: Decimal
    by_category: dict[str, Decimal]
    by_tier: dict[str, Decimal]


def _pct(value: Decimal) -> Decimal:
    return cents(value)


def _bands(plan: Plan, start: Decimal, end: Decimal) -> Iterable[tuple[Tier, Decimal]]:
    """The parts of the credit from ``start`` to ``end`` falling in each tier's band."""
    tiers = plan.tiers
    for index, tier in enumerate(tiers):
        low = tier.from_pct * plan.quota / HUNDRED
        high = tiers[index + 1].from_pct * plan.quota / HUNDRED if index + 1 < len(tiers) else None
        part_low = max(start, low)
        part_high = end if high is None else min(end, high)
        if part_high > part_low:
            yield tier, part_high - part_low


def _commission_lines(
    plan: Plan, state: Attainment, credit: Credit, line: CreditLine
) -> list[StatementLine]:
    rate = rate_of(plan, credit, line)
    before, after = state.credited, state.credited + line.amount
    attained = _pct(after * HUNDRED / plan.quota)

    def commission(tier: Tier, credited: Decimal, rule: str) -> StatementLine:
        return StatementLine(
            kind="commission",
            source=credit.source,
            source_id=credit.id,
            line_id=line.line_id,
            category=line.category,
            tier=tier.name,
            rate_pct=rate,
            multiplier=tier.multiplier,
            attainment_pct=attained,
            credited=credited,
            amount=cents(credited * rate / HUNDRED * tier.multiplier),
            rule=rule,
        )

    if plan.tier_style == "bands":
        return [
            commission(
                tier, cents(part), f"{rate}% on the part in band '{tier.name}' x {tier.multiplier}"
            )
            for tier, part in _bands(plan, before, after)
        ]
    old = plan.tier_at(before * HUNDRED / plan.quota)
    new = plan.tier_at(after * HUNDRED / plan.quota)
    lines = [
        commission(new, line.amount, f"{rate}% x {new.multiplier} (tier '{new.name}' reached)")
    ]
    if new.multiplier != old.multiplier and state.base_earned:
        lines.append(
            StatementLine(
                kind="tier_true_up",
                source="tier",
                source_id=credit.id,
                line_id=line.line_id,
                tier=new.name,
                multiplier=new.multiplier - old.multiplier,
                attainment_pct=attained,
                amount=cents(state.base_earned * (new.multiplier - old.multiplier)),
                rule=(
                    f"tier '{new.name}' reached: the period's earlier credit is paid at "
                    f"x {new.multiplier} instead of x {old.multiplier}"
                ),
            )
        )
    return lines


def earn(plan: Plan, state: Attainment, credit: Credit) -> tuple[list[StatementLine], Attainment]:
    """The lines one credit adds to a period whose position is ``state``, and the new position."""
    out: list[StatementLine] = []
    for line in credit.lines:
        if line.amount < 0:
            raise ValueError("a credited amount is never negative (reversals are their own events)")
        paid_before = state.paid(plan)
        lines = _commission_lines(plan, state, credit, line) if line.amount else []
        rate_sum = sum((item.amount for item in lines), ZERO)
        state = msgspec.structs.replace(
            state,
            credited=state.credited + line.amount,
            base_earned=state.base_earned + line.amount * rate_of(plan, credit, line) / HUNDRED,
            rate_earned=state.rate_earned + rate_sum,
        )
        attained = _pct(state.attainment_pct(plan))
        over_cap = (state.paid(plan) - paid_before) - rate_sum
        if over_cap:
            lines.append(
                StatementLine(
                    kind="cap",
                    source="cap",
                    source_id=credit.id,
                    line_id=line.line_id,
                    attainment_pct=attained,
                    amount=over_cap,
                    rule=f"the period's rate earnings are capped at {plan.cap}",
                )
            )
        for spiff in plan.spiffs:
            if line.quantity and spiff.applies(line.product_id, credit.day):
                bonus = cents(line.quantity * spiff.amount_per_unit)
                state = msgspec.structs.replace(state, spiffs=state.spiffs + bonus)
                lines.append(
                    StatementLine(
                        kind="spiff",
                        source="spiff",
                        source_id=credit.id,
                        line_id=line.line_id,
                        category=line.category,
                        attainment_pct=attained,
                        amount=bonus,
                        rule=(
                            f"{spiff.amount_per_unit} per unit of the product from "
                            f"{spiff.starts_on} to {spiff.ends_on} x {line.quantity}"
                        ),
                    )
                )
        out.extend(lines)
    return out, state


def _in_order(credits: Iterable[Credit]) -> list[Credit]:
    return sorted(credits, key=lambda credit: (credit.at, credit.id))


def fold(
    plan: Plan, period: str, credits: Iterable[Credit]
) -> tuple[list[StatementLine], Attainment]:
    """Every credit of a period earned in time order: its lines and the closing position."""
    state = Attainment(period=period)
    lines: list[StatementLine] = []
    for credit in _in_order(credits):
        added, state = earn(plan, state, credit)
        lines.extend(added)
    return lines, state


def net_of(credits: Iterable[Credit], reversals: Iterable[Reversal]) -> list[Credit]:
    """The credits with the reversals taken off each line (a fraction of what is left credited
    reverses that fraction of the original line, rounded to the cent, never below zero)."""
    reversed_by: dict[uuid.UUID, Decimal] = {}
    for reversal in reversals:
        reversed_by[reversal.credit_id] = min(
            Decimal(1), reversed_by.get(reversal.credit_id, Decimal(0)) + reversal.fraction
        )
    out = []
    for credit in credits:
        fraction = reversed_by.get(credit.id)
        if fraction is None:
            out.append(credit)
            continue
        keep = Decimal(1) - fraction
        out.append(
            msgspec.structs.replace(
                credit,
                lines=tuple(
                    msgspec.structs.replace(
                        line,
                        amount=cents(line.amount * keep),
                        quantity=line.quantity * keep,
                    )
                    for line in credit.lines
                ),
            )
        )
    return out


def period_total(plan: Plan, period: str, credits: Iterable[Credit]) -> Decimal:
    """What a period's credits pay: the sum of its folded lines."""
    lines, _ = fold(plan, period, credits)
    return sum((line.amount for line in lines), ZERO)


def clawback(
    plan: Plan,
    period: str,
    credits: Sequence[Credit],
    earlier: Sequence[Reversal],
    reversal: Reversal,
) -> Decimal:
    """What ``reversal`` claws back (zero or negative): the total of the credit's period (its
    plan and credits) with the reversal applied, minus without it, ``earlier`` reversals of that
    period's credits applied to both."""
    without = period_total(plan, period, net_of(credits, earlier))
    with_it = period_total(plan, period, net_of(credits, [*earlier, reversal]))
    return with_it - without


def clawback_line(
    reversal: Reversal, amount: Decimal, attainment: Decimal, *, origin_period: str
) -> StatementLine:
    """The statement line of a clawback computed by ``clawback``."""
    share = "in full" if reversal.fraction == 1 else f"for {reversal.fraction * HUNDRED}%"
    return StatementLine(
        kind="clawback",
        source=reversal.source,
        source_id=reversal.id,
        reverses=reversal.credit_id,
        attainment_pct=attainment,
        amount=amount,
        rule=f"{reversal.source} {share} of a credit earned in {origin_period}",
    )


def _key(value: str | None) -> str:
    return value if value is not None else "other"


def statement(
    plan: Plan,
    period: str,
    credits: Sequence[Credit],
    reversals: Sequence[Reversal] = (),
    carried: Sequence[StatementLine] = (),
    adjustments: Sequence[StatementLine] = (),
) -> Statement:
    """A rep's statement of ``period``: its credits' lines, then a clawback line for each reversal
    of one of them (in time order), then the clawbacks of earlier periods' credits (``carried``,
    each from ``clawback`` on its own period) and accepted dispute adjustments."""
    lines, state = fold(plan, period, credits)
    attained = _pct(state.attainment_pct(plan))
    own = {credit.id for credit in credits}
    applied: list[Reversal] = []
    for reversal in sorted(reversals, key=lambda item: (item.at, item.id)):
        if reversal.credit_id not in own:
            raise ValueError("a reversal of another period's credit is passed as carried")
        amount = clawback(plan, period, credits, applied, reversal)
        applied.append(reversal)
        lines.append(clawback_line(reversal, amount, attained, origin_period=period))
    lines.extend(carried)
    lines.extend(adjustments)
    by_category: dict[str, Decimal] = {}
    by_tier: dict[str, Decimal] = {}
    for line in lines:
        by_category[_key(line.category)] = by_category.get(_key(line.category), ZERO) + line.amount
        by_tier[_key(line.tier)] = by_tier.get(_key(line.tier), ZERO) + line.amount
    return Statement(
        period=period,
        plan_id=plan.id,
        lines=tuple(lines),
        attainment=state,
        total=sum((line.amount for line in lines), ZERO),
        by_category=by_category,
        by_tier=by_tier,
    )


class Preview(msgspec.Struct, frozen=True, kw_only=True):
    """What a draft order would earn the rep now, and from what position."""

    lines: tuple[StatementLine, ...]
    amount: Decimal
    attainment_before: Decimal
    attainment_after: Decimal


def preview(plan: Plan, state: Attainment, credit: Credit) -> Preview:
    """The lines ``credit`` would add after the rep's current position (the offline preview)."""
    lines, after = earn(plan, state, credit)
    return Preview(
        lines=tuple(lines),
        amount=sum((line.amount for line in lines), ZERO),
        attainment_before=_pct(state.attainment_pct(plan)),
        attainment_after=_pct(after.attainment_pct(plan)),
    )


def preview_differences(
    preview_plan: Plan,
    preview_state: Attainment,
    previewed: Credit,
    final_plan: Plan,
    final_state: Attainment,
    final: Credit,
) -> list[str]:
    """Why a final statement's lines for a credit differ from its preview, as reason codes:
    ``plan_changed``, ``attainment_moved`` (other credits came before it), ``split`` (its credit
    was shared), ``price_changed`` (the lines' amounts or units differ). Empty when nothing did."""
    reasons = []
    if preview_plan != final_plan:
        reasons.append("plan_changed")
    if (preview_state.credited, preview_state.base_earned, preview_state.rate_earned) != (
        final_state.credited,
        final_state.base_earned,
        final_state.rate_earned,
    ):
        reasons.append("attainment_moved")
    mine = {line.line_id: line for line in previewed.lines}
    theirs = {line.line_id: line for line in final.lines}
    if any(
        line.share_pct != mine[line_id].share_pct
        for line_id, line in theirs.items()
        if line_id in mine
    ):
        reasons.append("split")
    if mine.keys() != theirs.keys() or any(
        (line.full_amount, line.quantity * HUNDRED / line.share_pct, line.category, line.product_id)
        != (
            mine[line_id].full_amount,
            mine[line_id].quantity * HUNDRED / mine[line_id].share_pct,
            mine[line_id].category,
            mine[line_id].product_id,
        )
        for line_id, line in theirs.items()
        if line_id in mine
    ):
        reasons.append("price_changed")
    return reasons


def state_before(
    plan: Plan, period: str, credits: Iterable[Credit], credit_id: uuid.UUID
) -> Attainment:
    """The period's position just before a credit (what its preview should have started from)."""
    state = Attainment(period=period)
    for credit in _in_order(credits):
        if credit.id == credit_id:
            return state
        _, state = earn(plan, state, credit)
    raise KeyError(credit_id)
