"""Ageing of what is owed: the bucket of an open amount from how many days it is overdue."""

from __future__ import annotations

import datetime as dt
from typing import Literal

Bucket = Literal["current", "1_30", "31_60", "61_90", "over_90"]
BUCKETS: tuple[Bucket, ...] = ("current", "1_30", "31_60", "61_90", "over_90")


def days_overdue(due_on: dt.date, as_of: dt.date) -> int:
    """Days past the due date on ``as_of`` (0 while not yet due, and on the due date)."""
    return max((as_of - due_on).days, 0)


def bucket_of(due_on: dt.date, as_of: dt.date) -> Bucket:
    """``current`` (not overdue), ``1_30``, ``31_60``, ``61_90`` or ``over_90`` days overdue."""
    days = days_overdue(due_on, as_of)
    if days == 0:
        return "current"
    if days <= 30:
        return "1_30"
    if days <= 60:
        return "31_60"
    if days <= 90:
        return "61_90"
    return "over_90"
