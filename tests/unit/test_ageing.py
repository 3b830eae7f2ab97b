"""The ageing buckets: boundaries in days overdue and the sums."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rules.ageing import age, bucket_of

TODAY = dt.date(2026, 6, 30)


@pytest.mark.parametrize(
    ("days_overdue", "bucket"),
    [
        (-5, "current"),
        (0, "current"),  # due today is not overdue yet
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
def test_buckets_by_days_overdue(days_overdue: int, bucket: str) -> None:
    assert bucket_of(TODAY - dt.timedelta(days=days_overdue), TODAY) == bucket


def test_age_sums_amounts_per_bucket_with_overdue_and_total() -> None:
    due = [(-1, "10.10"), (5, "1"), (5, "2.5"), (45, "100"), (200, "0.01")]
    ageing = age([(TODAY - dt.timedelta(days=d), Decimal(a)) for d, a in due], TODAY)
    assert ageing.as_dict() == {
        "current": Decimal("10.10"),
        "days_1_30": Decimal("3.5"),
        "days_31_60": Decimal("100"),
        "days_61_90": Decimal(0),
        "over_90": Decimal("0.01"),
        "overdue": Decimal("103.51"),
        "total": Decimal("113.61"),
    }
    assert age([], TODAY).total == 0
