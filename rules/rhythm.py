"""Visit rhythm by value tier: when an account is due, and which visits to plan (pure).

Each value tier has a rhythm in days (VIP 7, key 14, regular 30, low 60 by default; 0: no
planned visits). An account is due ``rhythm`` days after its anchor: the later of its last
counted visit and its latest open plan, so a plan already made is never planned again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping


def due_on(anchor: dt.date | None, rhythm_days: int, today: dt.date) -> dt.date | None:
    """The day the account is next due; ``today`` when it was never visited nor planned; None
    when its tier has no rhythm."""
    if rhythm_days <= 0:
        return None
    if anchor is None:
        return today
    return anchor + dt.timedelta(days=rhythm_days)


def days_overdue(last_visit: dt.date | None, rhythm_days: int, today: dt.date) -> int | None:
    """How many days past due the account is (None when not overdue, or without rhythm). A
    never-visited account is overdue from today (0 days)."""
    due = due_on(last_visit, rhythm_days, today)
    if due is None or due > today:
        return None
    return (today - due).days


def plan_dates(
    anchor: dt.date | None, rhythm_days: int, start: dt.date, end: dt.date
) -> list[dt.date]:
    """The days in [start, end] to plan a visit on: from the due day (or ``start`` when that is
    already past), every ``rhythm_days`` days."""
    due = due_on(anchor, rhythm_days, start)
    if due is None:
        return []
    due = max(due, start)
    dates = []
    while due <= end:
        dates.append(due)
        due += dt.timedelta(days=rhythm_days)
    return dates


def latest(*days: dt.date | None) -> dt.date | None:
    """The latest of the known days (the anchor of an account)."""
    known = [day for day in days if day is not None]
    return max(known) if known else None


def rhythm_of(tier: str, rhythms: Mapping[str, int]) -> int:
    """The rhythm of a value tier (0 for an unknown one: never planned)."""
    return rhythms.get(tier, 0)
