"""Decimals on the wire are bounded before anything computes with them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from protocol.decimals import decimal_problem, unbounded_decimal
from rules.pricing import Line, round_cents


@pytest.mark.parametrize(
    "value", ["0", "12.50", "-3", "99999999999999.99", "0.0000000001", "1.5000000000000000", "1E+3"]
)
def test_ordinary_decimals_are_accepted(value: str) -> None:
    assert decimal_problem(Decimal(value)) is None
    round_cents(Decimal(value))  # and they compute


@pytest.mark.parametrize(
    "value",
    ["1e30", "100000000000000", "-1e14", "1e-11", "1e-999999999", "NaN", "sNaN", "-Infinity"],
)
def test_out_of_bounds_decimals_are_refused_without_raising(value: str) -> None:
    assert decimal_problem(Decimal(value)) is not None


def test_the_first_unbounded_decimal_is_found_with_its_path() -> None:
    line = Line(id="0" * 32, product_id="1" * 32, quantity=Decimal("1e30"), unit_price=Decimal(1))
    assert unbounded_decimal({"lines": [line], "amount": Decimal(1)}) == (
        "lines.0.quantity",
        "must be below 10^14 in magnitude",
    )
    assert unbounded_decimal({"amount": Decimal("2.5"), "tags": ["x"]}) is None
