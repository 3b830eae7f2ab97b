"""The pure order rules: every hold reason listed, releases remembered, the state machine."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from server.sfa.orders.rules import (
    ALLOWED_FROM,
    Outcome,
    released_reasons,
    short_products,
    standing_reasons,
    submission_outcome,
)

D = Decimal


def standing(**overrides):
    values = {
        "arrears": D("0"),
        "credit_limit": D("1000"),
        "open_total": D("0"),
        "order_total": D("100"),
        **overrides,
    }
    return standing_reasons(**values)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, []),
        ({"arrears": D("0.01")}, ["arrears"]),
        ({"open_total": D("900"), "order_total": D("100.01")}, ["credit_limit"]),
        ({"open_total": D("900"), "order_total": D("100.00")}, []),  # up to the limit is fine
        ({"arrears": D("1"), "credit_limit": D("0")}, ["arrears", "credit_limit"]),
        ({"arrears": D("1"), "credit_limit": D("0"), "overrides": ["arrears"]}, ["credit_limit"]),
    ],
)
def test_standing_lists_every_reason_not_released(kwargs, expected) -> None:
    assert standing(**kwargs) == expected


def test_the_outcome_lists_stock_after_the_standing_and_a_blacklist_rejects() -> None:
    assert submission_outcome(blacklisted=False, standing=[], stock_short=False) == Outcome(
        "confirmed"
    )
    assert submission_outcome(blacklisted=False, standing=["arrears"], stock_short=True) == Outcome(
        "on_hold", hold_reasons=("arrears", "insufficient_stock")
    )
    assert submission_outcome(blacklisted=False, standing=[], stock_short=True) == Outcome(
        "on_hold", hold_reasons=("insufficient_stock",)
    )
    assert submission_outcome(blacklisted=True, standing=["arrears"], stock_short=True) == Outcome(
        "rejected", reject_reason="blacklisted"
    )


def test_a_release_overrides_the_customer_reasons_but_never_stock() -> None:
    assert released_reasons(["arrears", "insufficient_stock"], []) == ["arrears"]
    # a second release (the stock hold) keeps what the first one released
    assert released_reasons(["insufficient_stock"], ["arrears"]) == ["arrears"]
    assert released_reasons(["credit_limit"], ["arrears"]) == ["arrears", "credit_limit"]


def test_short_products_sums_nothing_missing_as_zero() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert short_products({a: D("2"), b: D("1")}, {a: D("2")}) == [b]
    assert short_products({a: D("2.5")}, {a: D("2.4999")}) == [a]


def test_closed_orders_take_no_action_and_only_confirmed_ones_are_fulfilled() -> None:
    for closed in ("rejected", "fulfilled", "cancelled"):
        assert not [action for action, sources in ALLOWED_FROM.items() if closed in sources]
    assert ALLOWED_FROM["fulfil"] == {"confirmed"}
    assert "confirmed" not in ALLOWED_FROM["confirm"]  # confirming twice is refused
    assert ALLOWED_FROM["cancel"] == {
        "draft",
        "pending_approval",
        "submitted",
        "on_hold",
        "confirmed",
    }
