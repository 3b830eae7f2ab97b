"""Commission rules by example: tiers in both styles, thresholds, accelerators, caps, SPIFFs,
splits, clawbacks, plan selection and the offline preview (docs/commissions.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import msgspec
import pytest

from rules.commission_plans import (
    PlanInvalid,
    Spiff,
    Tier,
    period_bounds,
    period_of,
    plan_for,
    split_credit,
    validate_plan,
)
from rules.commissions import (
    Attainment,
    clawback,
    clawback_line,
    fold,
    preview,
    preview_differences,
    state_before,
    statement,
)
from tests.unit.commission_builders import REP, make_credit, make_plan, make_reversal

D = Decimal
PRODUCT = uuid.UUID(int=0xE0)


def amounts(lines: object) -> list[tuple[str, Decimal]]:
    return [(line.kind, line.amount) for line in lines]  # type: ignore[attr-defined]


def test_whole_tiers_pay_nothing_below_the_threshold_then_true_up_the_period_on_crossing() -> None:
    plan = make_plan()
    lines, state = fold(plan, "2026-12", [make_credit(1, "4000"), make_credit(2, "2000")])
    # 4,000 is 40 %: under the threshold, x 0; 6,000 is 60 %: base x 1, and the first 4,000 at 5 %
    # are trued up from x 0 to x 1
    assert amounts(lines) == [
        ("commission", D("0.00")),
        ("commission", D("100.00")),
        ("tier_true_up", D("200.00")),
    ]
    assert state.credited == D("6000.00") and lines[-1].tier == "base"
    assert lines[1].attainment_pct == D("60.00")


def test_band_tiers_pay_each_part_of_a_credit_at_its_own_band() -> None:
    plan = make_plan(tier_style="bands")
    lines, _ = fold(plan, "2026-12", [make_credit(1, "4000"), make_credit(2, "8000")])
    # 8,000 from 40 % to 120 %: 1,000 in the threshold band, 5,000 in base, 2,000 accelerated
    assert [(line.tier, line.credited, line.amount) for line in lines] == [
        ("threshold", D("4000.00"), D("0.00")),
        ("threshold", D("1000.00"), D("0.00")),
        ("base", D("5000.00"), D("250.00")),
        ("accelerator", D("2000.00"), D("150.00")),
    ]


def test_the_two_styles_differ_by_the_earlier_bands_repaid_at_the_reached_tier() -> None:
    credits = [make_credit(1, "4000"), make_credit(2, "8000")]
    whole = statement(make_plan(), "2026-12", credits).total
    bands = statement(make_plan(tier_style="bands"), "2026-12", credits).total
    # whole: 12,000 x 5 % x 1.5 = 900; bands: 250 + 150 = 400; the difference is 5,000 at
    # (1.5 - 0) and 5,000 at (1.5 - 1) at 5 %: 375 + 125
    assert (whole, bands, whole - bands) == (D("900.00"), D("400.00"), D("500.00"))


def test_category_rates_and_the_default_rate() -> None:
    plan = make_plan(tiers=(Tier(name="flat", from_pct=D(0), multiplier=D(1)),))
    lines, _ = fold(
        plan,
        "2026-12",
        [make_credit(1, "1000", category="hardware"), make_credit(2, "1000", category="services")],
    )
    assert [(line.category, line.rate_pct, line.amount) for line in lines] == [
        ("hardware", D(8), D("80.00")),
        ("services", D(5), D("50.00")),
    ]


def test_a_cap_limits_rate_earnings_but_not_spiffs() -> None:
    spiff = Spiff(
        product_id=PRODUCT,
        amount_per_unit=D("10"),
        starts_on=dt.date(2026, 12, 1),
        ends_on=dt.date(2026, 12, 31),
    )
    plan = make_plan(cap=D("500"), spiffs=(spiff,))
    result = statement(plan, "2026-12", [make_credit(1, "20000", product_id=PRODUCT, quantity="3")])
    # 20,000 at x 1.5 and 5 % is 1,500, capped to 500; three units earn 30 outside the cap
    assert amounts(result.lines) == [
        ("commission", D("1500.00")),
        ("cap", D("-1000.00")),
        ("spiff", D("30.00")),
    ]
    assert result.total == D("530.00")


def test_a_spiff_pays_only_inside_its_dates_and_for_its_product() -> None:
    spiff = Spiff(
        product_id=PRODUCT,
        amount_per_unit=D("10"),
        starts_on=dt.date(2026, 12, 2),
        ends_on=dt.date(2026, 12, 2),
    )
    plan = make_plan(spiffs=(spiff,))
    on_the_day = make_credit(1, "100", product_id=PRODUCT, quantity="1", minutes=24 * 60)
    day_before = make_credit(2, "100", product_id=PRODUCT, quantity="1", minutes=0)
    other_product = make_credit(
        3, "100", product_id=uuid.UUID(int=1), quantity="1", minutes=24 * 60
    )
    kinds = [
        line.kind for line in fold(plan, "2026-12", [on_the_day, day_before, other_product])[0]
    ]
    assert kinds.count("spiff") == 1


def test_a_cancellation_in_the_same_period_returns_the_total_to_the_period_without_it() -> None:
    plan = make_plan()
    credits = [make_credit(1, "3000"), make_credit(2, "3000"), make_credit(3, "6000")]
    cancelled = statement(plan, "2026-12", credits, [make_reversal(1, credits[2])])
    without = statement(plan, "2026-12", credits[:2])
    assert cancelled.total == without.total == D("300.00")
    line = cancelled.lines[-1]
    assert (line.kind, line.reverses, line.amount) == ("clawback", credits[2].id, D("-600.00"))


def test_a_partial_refund_reverses_partially_and_two_halves_reverse_the_whole() -> None:
    plan = make_plan()
    credits = [make_credit(1, "6000"), make_credit(2, "6000")]
    half = make_reversal(1, credits[1], "0.5")
    other_half = make_reversal(2, credits[1], "0.5")
    whole = make_reversal(3, credits[1], "1")
    first = clawback(plan, "2026-12", credits, [], half)
    second = clawback(plan, "2026-12", credits, [half], other_half)
    assert D(0) > first > clawback(plan, "2026-12", credits, [], whole)
    assert first + second == clawback(plan, "2026-12", credits, [], whole)


def test_a_later_periods_clawback_is_what_the_credit_added_to_its_own_period() -> None:
    plan = make_plan()
    november = [make_credit(1, "6000"), make_credit(2, "6000")]
    refund = make_reversal(1, november[1])
    amount = clawback(plan, "2026-11", november, [], refund)
    december = statement(
        plan,
        "2026-12",
        [make_credit(3, "1000")],
        carried=[clawback_line(refund, amount, D("10.00"), origin_period="2026-11")],
    )
    assert (
        amount
        == statement(plan, "2026-11", november[:1]).total
        - statement(plan, "2026-11", november).total
    )
    # the clawback does not lower December's attainment
    assert december.attainment.credited == D("1000.00")
    assert december.lines[-1].rule == "cancellation in full of a credit earned in 2026-11"


def test_splits_are_exact_to_the_cent() -> None:
    a, b, c = (uuid.UUID(int=i) for i in (1, 2, 3))
    split = split_credit(D("100.00"), [(a, D("33.34")), (b, D("33.33")), (c, D("33.33"))])
    assert split == {a: D("33.34"), b: D("33.33"), c: D("33.33")}
    assert sum(split_credit(D("0.05"), [(a, D(50)), (b, D(50))]).values()) == D("0.05")
    assert split_credit(D("-10.01"), [(a, D(50)), (b, D(50))]) == {a: D("-5.01"), b: D("-5.00")}


@pytest.mark.parametrize(
    ("shares", "field"),
    [
        ([], "shares"),
        ([(REP, D(90))], "shares"),
        ([(REP, D(50)), (REP, D(50))], "shares.1"),
        ([(REP, D(120)), (uuid.UUID(int=9), D(-20))], "shares.0"),
    ],
    ids=["none", "short", "twice", "negative"],
)
def test_bad_splits_are_refused_naming_the_share(
    shares: list[tuple[uuid.UUID, Decimal]], field: str
) -> None:
    with pytest.raises(PlanInvalid) as refused:
        split_credit(D(100), shares)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quota": D(0)}, "quota"),
        ({"default_rate_pct": D(101)}, "default_rate_pct"),
        ({"category_rates_pct": {"x": D(-1)}}, "category_rates_pct.x"),
        ({"tiers": (Tier(name="late", from_pct=D(10), multiplier=D(1)),)}, "tiers.0.from_pct"),
        (
            {
                "tiers": (
                    Tier(name="a", from_pct=D(0), multiplier=D(1)),
                    Tier(name="b", from_pct=D(0), multiplier=D(2)),
                )
            },
            "tiers.1.from_pct",
        ),
        ({"cap": D(-1)}, "cap"),
        ({"rep_id": REP}, "role"),
        ({"valid_to": dt.date(2025, 1, 1)}, "valid_to"),
    ],
    ids=["quota", "rate", "category", "first-tier", "tier-order", "cap", "role-and-rep", "dates"],
)
def test_bad_plans_are_refused_naming_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(PlanInvalid) as refused:
        validate_plan(make_plan(**overrides))
    assert refused.value.field == field


def test_the_plan_of_a_period_is_the_one_in_force_on_its_first_day_the_reps_own_first() -> None:
    old = make_plan(valid_to=dt.date(2026, 12, 15))
    new = make_plan(id=uuid.UUID(int=2), valid_from=dt.date(2026, 12, 15))
    own = make_plan(id=uuid.UUID(int=3), role=None, rep_id=REP, valid_from=dt.date(2027, 1, 1))
    plans = [old, new, own]
    assert plan_for(plans, rep_id=REP, role="rep", period="2026-12") is old
    assert plan_for(plans, rep_id=uuid.UUID(int=4), role="rep", period="2027-01") is new
    assert plan_for(plans, rep_id=REP, role="rep", period="2027-01") is own
    assert plan_for(plans, rep_id=REP, role="manager", period="2026-12") is None


def test_periods() -> None:
    assert period_of(dt.date(2026, 12, 31)) == "2026-12"
    assert period_of(dt.date(2026, 11, 3), "quarter") == "2026-Q4"
    assert period_bounds("2026-12") == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert period_bounds("2026-Q1") == (dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    with pytest.raises(ValueError):
        period_bounds("2026-13")


def test_the_preview_is_the_final_line_and_says_why_when_it_is_not() -> None:
    plan = make_plan()
    earlier = [make_credit(1, "4000")]
    draft = make_credit(2, "2000")
    state = state_before(plan, "2026-12", [*earlier, draft], draft.id)
    shown = preview(plan, state, draft)
    final = statement(plan, "2026-12", [*earlier, draft])
    assert shown.lines == tuple(line for line in final.lines if line.source_id == draft.id)
    assert (shown.attainment_before, shown.attainment_after) == (D("40.00"), D("60.00"))
    assert preview_differences(plan, state, draft, plan, state, draft) == []

    shared = make_credit(2, "2000", share_pct="50")
    moved = state_before(
        plan, "2026-12", [*earlier, make_credit(5, "100", minutes=0), shared], shared.id
    )
    assert preview_differences(plan, state, draft, plan, moved, shared) == [
        "attainment_moved",
        "split",
    ]
    repriced = make_credit(2, "1900")
    assert preview_differences(plan, state, draft, plan, state, repriced) == ["price_changed"]
    assert preview_differences(plan, state, draft, make_plan(quota=D(1)), state, draft) == [
        "plan_changed"
    ]


def test_an_empty_period_pays_nothing() -> None:
    result = statement(make_plan(), "2026-12", [])
    assert (result.total, result.lines, result.attainment) == (
        D("0.00"),
        (),
        Attainment(period="2026-12"),
    )


def test_overlay_credit_earns_at_the_managers_overlay_rate_and_counts_towards_attainment() -> None:
    plan = make_plan(
        overlay_rate_pct=D(1), tiers=(Tier(name="flat", from_pct=D(0), multiplier=D(1)),)
    )
    team = msgspec.structs.replace(make_credit(1, "5000", category="hardware"), overlay=True)
    lines, state = fold(plan, "2026-12", [team])
    assert [(line.rate_pct, line.amount) for line in lines] == [(D(1), D("50.00"))]
    assert state.credited == D("5000.00")
    no_overlay = fold(make_plan(), "2026-12", [team])[0]
    assert sum(line.amount for line in no_overlay) == D(0)
