"""Property tests of the commission rules (hypothesis): the invariants of docs/commissions.md.

Random plans (rates per category, threshold and accelerator tiers, caps, SPIFFs) and random
periods of credits and reversals: splits sum to the whole; a cancellation returns the period to
its total without the order; partial reversals add up to the whole one; the two tier styles
differ by exactly the documented amount (within the per-line rounding); a statement does not
depend on the order its events are given in, nor on a trip over the wire; the preview of the
period's last credit is its statement lines.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import msgspec
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rules.commission_plans import HUNDRED, Plan, Tier, split_credit
from rules.commissions import (
    Credit,
    Reversal,
    clawback,
    fold,
    net_of,
    period_total,
    preview,
    state_before,
    statement,
)
from tests.unit.commission_builders import make_credit, make_plan, make_reversal

FAST = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
PERIOD = "2026-12"
CATEGORIES = [None, "hardware", "services"]

money = st.decimals(min_value=0, max_value=20_000, places=2)
rates = st.decimals(min_value=0, max_value=20, places=2)


@st.composite
def tier_sets(draw: st.DrawFn) -> tuple[Tier, ...]:
    starts = sorted(draw(st.sets(st.integers(min_value=1, max_value=200), max_size=3)))
    multipliers = draw(
        st.lists(
            st.decimals(min_value=0, max_value=3, places=2),
            min_size=len(starts) + 1,
            max_size=len(starts) + 1,
        )
    )
    froms = [0, *starts]
    return tuple(
        Tier(name=f"t{index}", from_pct=Decimal(start), multiplier=multiplier)
        for index, (start, multiplier) in enumerate(zip(froms, multipliers, strict=True))
    )


@st.composite
def plans(draw: st.DrawFn, *, capped: bool | None = None) -> Plan:
    cap = draw(st.none() | money) if capped is None else (draw(money) if capped else None)
    return make_plan(
        quota=draw(st.decimals(min_value=100, max_value=50_000, places=0)),
        default_rate_pct=draw(rates),
        category_rates_pct={"hardware": draw(rates), "services": draw(rates)},
        tiers=draw(tier_sets()),
        tier_style=draw(st.sampled_from(["whole", "bands"])),
        cap=cap,
    )


@st.composite
def periods(draw: st.DrawFn) -> list[Credit]:
    count = draw(st.integers(min_value=1, max_value=8))
    return [
        make_credit(
            index,
            draw(money),
            category=draw(st.sampled_from(CATEGORIES)),
            minutes=draw(st.integers(min_value=0, max_value=60 * 24 * 20)),
        )
        for index in range(count)
    ]


@FAST
@given(
    amount=st.decimals(min_value=-10_000, max_value=10_000, places=2),
    weights=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=6),
)
def test_splits_sum_to_the_whole(amount: Decimal, weights: list[int]) -> None:
    # shares in hundredths of a percent that sum to exactly 100
    raw = [Decimal(w) * 10_000 / sum(weights) for w in weights]
    shares = [int(r) for r in raw]
    shares[0] += 10_000 - sum(shares)
    assume(all(share > 0 for share in shares))
    reps = [uuid.UUID(int=i + 1) for i in range(len(shares))]
    split = split_credit(
        amount, [(rep, Decimal(s) / 100) for rep, s in zip(reps, shares, strict=True)]
    )
    assert sum(split.values()) == amount
    for rep, share in zip(reps, shares, strict=True):
        assert abs(split[rep] - amount * share / 10_000) < Decimal("0.01")


@FAST
@given(plan=plans(), credits=periods(), data=st.data())
def test_a_cancellation_returns_the_period_to_its_total_without_the_order(
    plan: Plan, credits: list[Credit], data: st.DataObject
) -> None:
    gone = data.draw(st.sampled_from(credits))
    cancelled = statement(plan, PERIOD, credits, [make_reversal(1, gone)])
    rest = [credit for credit in credits if credit.id != gone.id]
    assert cancelled.total == statement(plan, PERIOD, rest).total
    assert cancelled.lines[-1].reverses == gone.id


@FAST
@given(plan=plans(), credits=periods(), data=st.data())
def test_partial_reversals_add_up_to_the_whole_reversal(
    plan: Plan, credits: list[Credit], data: st.DataObject
) -> None:
    target = data.draw(st.sampled_from(credits))
    first = data.draw(st.decimals(min_value="0.01", max_value="0.99", places=2))
    parts = [make_reversal(1, target, first), make_reversal(2, target, 1 - first)]
    whole = clawback(plan, PERIOD, credits, [], make_reversal(3, target))
    one = clawback(plan, PERIOD, credits, [], parts[0])
    two = clawback(plan, PERIOD, credits, parts[:1], parts[1])
    # the refunds round each line to the cent, so the parts may leave a cent per line over
    assert abs(one + two - whole) <= Decimal("0.01") * len(target.lines) * 4
    assert (
        period_total(plan, PERIOD, net_of(credits, parts))
        == period_total(plan, PERIOD, credits) + one + two
    )


def _documented_difference(plan: Plan, credits: list[Credit]) -> Decimal:
    """docs/commissions.md: before rounding, whole minus bands is, for every band part of every
    credited line, rate x part x (multiplier of the tier finally reached - the band's)."""
    bands_plan = msgspec.structs.replace(plan, tier_style="bands")
    lines, state = fold(bands_plan, PERIOD, credits)
    final = plan.tier_at(state.attainment_pct(plan)).multiplier
    exact = Decimal(0)
    start = Decimal(0)
    for credit in sorted(credits, key=lambda c: (c.at, c.id)):
        for line in credit.lines:
            rate = plan.rate_for(line.category)
            for tier in plan.tiers:
                low = tier.from_pct * plan.quota / HUNDRED
                following = [t.from_pct for t in plan.tiers if t.from_pct > tier.from_pct]
                high = following[0] * plan.quota / HUNDRED if following else None
                part_low = max(start, low)
                part_high = start + line.amount if high is None else min(start + line.amount, high)
                if part_high > part_low:
                    exact += rate / HUNDRED * (part_high - part_low) * (final - tier.multiplier)
            start += line.amount
    return exact


@FAST
@given(plan=plans(capped=False), credits=periods())
def test_the_two_tier_styles_differ_exactly_as_documented(
    plan: Plan, credits: list[Credit]
) -> None:
    whole_plan = msgspec.structs.replace(plan, tier_style="whole")
    bands_plan = msgspec.structs.replace(plan, tier_style="bands")
    whole = statement(whole_plan, PERIOD, credits)
    bands = statement(bands_plan, PERIOD, credits)
    rounded_lines = len(whole.lines) + len(bands.lines)
    difference = whole.total - bands.total
    assert abs(difference - _documented_difference(plan, credits)) <= (
        Decimal("0.005") * rounded_lines
    )
    if all(a.multiplier <= b.multiplier for a, b in zip(plan.tiers, plan.tiers[1:], strict=False)):
        assert difference >= -Decimal("0.005") * rounded_lines


@FAST
@given(plan=plans(), credits=periods(), data=st.data())
def test_a_statement_depends_on_its_events_not_on_their_order_or_a_trip_over_the_wire(
    plan: Plan, credits: list[Credit], data: st.DataObject
) -> None:
    gone = data.draw(st.sampled_from(credits))
    reversals = [make_reversal(1, gone, "0.25"), make_reversal(2, gone, "0.5")]
    first = statement(plan, PERIOD, credits, reversals)
    shuffled = data.draw(st.permutations(credits))
    wire = msgspec.json.decode(
        msgspec.json.encode((plan, shuffled, reversals[::-1])),
        type=tuple[Plan, list[Credit], list[Reversal]],
    )
    again = statement(wire[0], PERIOD, wire[1], wire[2])
    assert again == first


@FAST
@given(plan=plans(), credits=periods())
def test_the_preview_of_the_last_credit_is_its_statement_lines(
    plan: Plan, credits: list[Credit]
) -> None:
    last = max(credits, key=lambda credit: (credit.at, credit.id))
    shown = preview(plan, state_before(plan, PERIOD, credits, last.id), last)
    final = statement(plan, PERIOD, credits)
    assert shown.lines == tuple(line for line in final.lines if line.source_id == last.id)
    before = statement(plan, PERIOD, [c for c in credits if c.id != last.id]).total
    assert before + shown.amount == final.total


@FAST
@given(plan=plans(capped=True), credits=periods())
def test_rate_earnings_never_pay_past_the_cap(plan: Plan, credits: list[Credit]) -> None:
    result = statement(plan, PERIOD, credits)
    rate_paid = sum((line.amount for line in result.lines if line.kind != "spiff"), Decimal(0))
    assert plan.cap is not None and rate_paid <= plan.cap
    assert rate_paid == min(plan.cap, result.attainment.rate_earned)
