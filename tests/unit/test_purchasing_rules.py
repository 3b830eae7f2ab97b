"""Pure purchasing rules: ageing buckets at their edges, receipt status, shortfalls, due dates."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal as D

import pytest

from rules.ageing import bucket_of, days_overdue
from server.sfa.purchasing.rules import (
    due_on,
    line_value,
    negative_available,
    order_shortfall,
    status_after_receipt,
)

DUE = dt.date(2026, 1, 31)


@pytest.mark.parametrize(
    ("days_late", "bucket"),
    [
        (-10, "current"),
        (0, "current"),
        (1, "days_1_30"),
        (30, "days_1_30"),
        (31, "days_31_60"),
        (60, "days_31_60"),
        (61, "days_61_90"),
        (90, "days_61_90"),
        (91, "over_90"),
        (4000, "over_90"),
    ],
)
def test_buckets_at_their_edges(days_late: int, bucket: str) -> None:
    """Payables age with the receivables' rules (rules.ageing): the same buckets."""
    as_of = DUE + dt.timedelta(days=days_late)
    assert bucket_of(DUE, as_of) == bucket
    assert days_overdue(DUE, as_of) == days_late


def test_receipt_status_and_values() -> None:
    assert status_after_receipt([(D(5), D(5)), (D(3), D(3))]).value == "received"
    assert status_after_receipt([(D(5), D(5)), (D(3), D(1))]).value == "partially_received"
    assert status_after_receipt([(D(5), D(0))]).value == "partially_received"
    assert line_value(D("3"), D("0.33335")) == D("1.0001")  # half up at four places
    assert due_on(dt.date(2026, 2, 20), 30) == dt.date(2026, 3, 22)


def test_shortfall_subtracts_what_is_held_and_free() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    demand = {a: D(9), b: D(2), c: D(6)}
    held = {a: D(2)}
    available = {a: D(1), b: D(50), c: D(-4)}  # c: negative availability frees nothing
    assert order_shortfall(demand, held, available) == {a: D(6), c: D(6)}
    assert negative_available(available) == {c: D(4)}
