"""rules.pricing: line and document totals to the cent, and refusal of unpriceable lines."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from rules.pricing import (
    MAX_LINES,
    Line,
    LinesInvalid,
    document_totals,
    lines_to_wire,
    parse_lines,
    price_line,
    round_cents,
)

D = Decimal


def line(quantity: str, unit_price: str, discount_pct: str = "0", tax_rate: str = "0") -> Line:
    return Line(
        id=uuid.uuid4(),
        product_id=uuid.uuid4(),
        quantity=D(quantity),
        unit_price=D(unit_price),
        discount_pct=D(discount_pct),
        tax_rate=D(tax_rate),
    )


def wire_line(**overrides: object) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "product_id": str(uuid.uuid4()),
        "quantity": "1",
        "unit_price": "1.00",
        **overrides,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("2.675", "2.68"),
        ("-0.005", "-0.01"),
        ("1.004", "1.00"),
    ],
)
def test_rounding_is_half_up_not_bankers(value: str, expected: str) -> None:
    assert round_cents(D(value)) == D(expected)
    assert str(round_cents(D(value))) == expected


def test_line_net_is_rounded_before_tax() -> None:
    priced = price_line(line("3", "0.335", tax_rate="0.13"))  # 1.005 -> 1.01; tax 0.1313 -> 0.13
    assert (priced.net, priced.tax, priced.total) == (D("1.01"), D("0.13"), D("1.14"))


def test_discount_is_a_percentage_of_the_gross() -> None:
    assert price_line(line("1", "10.00", discount_pct="15")).net == D("8.50")
    # 29.97 * 0.875 = 26.22375
    assert price_line(line("3", "9.99", discount_pct="12.5")).net == D("26.22")
    assert price_line(line("7", "3.33", discount_pct="100")).total == D("0.00")


def test_tax_is_computed_and_rounded_per_line() -> None:
    # each line's tax is 0.005 -> 0.01; taxing the subtotal once would give 0.01, not 0.02
    totals = document_totals([line("1", "0.05", tax_rate="0.1"), line("1", "0.05", tax_rate="0.1")])
    assert totals.subtotal == D("0.10")
    assert totals.tax_total == D("0.02")
    assert totals.total == D("0.12")


def test_mixed_tax_rates_sum_exactly() -> None:
    totals = document_totals(
        [
            line(
                "12", "4.99", discount_pct="5", tax_rate="0.13"
            ),  # 56.886 -> 56.89; 7.3957 -> 7.40
            line("0.5", "19.90", tax_rate="0.09"),  # 9.95; 0.8955 -> 0.90
            line("1", "0.10", tax_rate="0"),  # 0.10
        ]
    )
    assert totals.subtotal == D("66.94")
    assert totals.tax_total == D("8.30")
    assert totals.total == D("75.24")
    assert all(isinstance(value, Decimal) for value in (totals.subtotal, totals.total))


def test_no_lines_is_zero_to_the_cent() -> None:
    totals = document_totals([])
    assert (str(totals.subtotal), str(totals.tax_total), str(totals.total)) == ("0.00",) * 3


def test_large_amounts_stay_exact() -> None:
    assert price_line(line("1000000", "99999.99", tax_rate="0.13")).total == D("112999988700.00")
    # the classic float trap: 0.1 * 3 is exactly 0.30 here
    assert price_line(line("3", "0.1")).net == D("0.30")


def test_parse_lines_reads_wire_values_and_round_trips() -> None:
    raw = [wire_line(quantity="2.5", unit_price="3.10", discount_pct="10", tax_rate="0.06")]
    lines = parse_lines(raw)
    assert lines[0].quantity == D("2.5") and lines[0].tax_rate == D("0.06")
    assert lines_to_wire(lines) == [raw[0]]
    assert parse_lines(None) == []
    # JSON numbers are accepted too, and never pass through binary floats on our side
    assert parse_lines([wire_line(quantity=2, unit_price=1.5)])[0].unit_price == D("1.5")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": "0"}, "lines[0].quantity"),
        ({"quantity": "-1"}, "lines[0].quantity"),
        ({"quantity": "NaN"}, "lines[0].quantity"),
        ({"unit_price": "-0.01"}, "lines[0].unit_price"),
        ({"unit_price": "abc"}, "lines[0].unit_price"),
        ({"discount_pct": "100.01"}, "lines[0].discount_pct"),
        ({"tax_rate": "1.5"}, "lines[0].tax_rate"),
        ({"product_id": "not-a-uuid"}, "lines[0].product_id"),
        ({"colour": "red"}, "lines[0]"),
    ],
)
def test_bad_lines_are_refused_with_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(LinesInvalid) as caught:
        parse_lines([wire_line(**overrides)])
    assert caught.value.field == field


def test_the_index_of_the_bad_line_is_reported() -> None:
    with pytest.raises(LinesInvalid) as caught:
        parse_lines([wire_line(), wire_line(quantity="0")])
    assert caught.value.field == "lines[1].quantity"


def test_duplicate_line_ids_and_oversized_documents_are_refused() -> None:
    first = wire_line()
    with pytest.raises(LinesInvalid) as caught:
        parse_lines([first, wire_line(id=first["id"])])
    assert caught.value.field == "lines[1].id"
    with pytest.raises(LinesInvalid) as caught:
        parse_lines([wire_line() for _ in range(MAX_LINES + 1)])
    assert caught.value.field == "lines"
    with pytest.raises(LinesInvalid):
        parse_lines({"not": "a list"})
