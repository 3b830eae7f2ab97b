"""Receivables ageing: which bucket an open amount falls in, and the totals per bucket.

Pure functions over plain values: the server ages receivables with them and a device can
recompute the same buckets offline from the instalments it holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Bucket = Literal["current", "days_1_30", "days_31_60", "days_61_90", "over_90"]
BUCKETS: tuple[Bucket, ...] = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90")
# (most days overdue a bucket holds, the bucket); "current" is not yet due, the last has no
# upper bound
_LIMITS: tuple[tuple[int, Bucket], ...] = (
    (0, "current"),
    (30, "days_1_30"),
    (60, "days_31_60"),
    (90, "days_61_90"),
)


def days_overdue(due_date: dt.date, today: dt.date) -> int:
    """Days since the due date (0 or less: not overdue; due today is not overdue)."""
    return (today - due_date).days


def bucket_of(due_date: dt.date, today: dt.date) -> Bucket:
    """The ageing bucket of an amount due on ``due_date``, seen on ``today``."""
    days = days_overdue(due_date, today)
    for limit, name in _LIMITS:
        if days <= limit:
            return name
    return "over_90"


@dataclass(frozen=True)
class Ageing:
    """Open amounts by bucket."""

    current: Decimal = Decimal(0)
    days_1_30: Decimal = Decimal(0)
    days_31_60: Decimal = Decimal(0)
    days_61_90: Decimal = Decimal(0)
    over_90: Decimal = Decimal(0)

    @property
    def overdue(self) -> Decimal:
        """Everything past its due date: what an account's ``arrears`` is."""
        return self.days_1_30 + self.days_31_60 + self.days_61_90 + self.over_90

    @property
    def total(self) -> Decimal:
        """Everything still open."""
        return self.current + self.overdue

    def as_dict(self) -> dict[str, Decimal]:
        """The buckets with ``overdue`` and ``total``."""
        values: dict[str, Decimal] = {name: getattr(self, name) for name in BUCKETS}
        return {**values, "overdue": self.overdue, "total": self.total}


def age(open_amounts: Iterable[tuple[dt.date, Decimal]], today: dt.date) -> Ageing:
    """Sum ``(due_date, open amount)`` pairs into their buckets as seen on ``today``."""
    sums = dict.fromkeys(BUCKETS, Decimal(0))
    for due_date, amount in open_amounts:
        sums[bucket_of(due_date, today)] += amount
    return Ageing(**sums)
