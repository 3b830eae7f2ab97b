"""rules.rhythm: due days, overdue accounts and idempotent plans by value tier."""

from __future__ import annotations

import datetime as dt

import pytest

from rules.rhythm import days_overdue, due_on, latest, plan_dates, rhythm_of

TODAY = dt.date(2026, 5, 6)
RHYTHMS = {"vip": 7, "key": 14, "regular": 30, "low": 0}


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.mark.parametrize(("tier", "rhythm"), [("vip", 7), ("key", 14), ("regular", 30)])
def test_a_visited_account_is_due_its_tiers_rhythm_later(tier: str, rhythm: int) -> None:
    assert rhythm_of(tier, RHYTHMS) == rhythm
    assert due_on(TODAY, rhythm, TODAY) == TODAY + days(rhythm)
    assert days_overdue(TODAY - days(rhythm), rhythm, TODAY) == 0
    assert days_overdue(TODAY - days(rhythm - 1), rhythm, TODAY) is None
    assert days_overdue(TODAY - days(rhythm + 3), rhythm, TODAY) == 3


def test_never_visited_is_due_today_and_no_rhythm_is_never_due() -> None:
    assert due_on(None, 7, TODAY) == TODAY
    assert days_overdue(None, 7, TODAY) == 0
    assert due_on(TODAY, 0, TODAY) is None and days_overdue(None, 0, TODAY) is None
    assert rhythm_of("unknown", RHYTHMS) == 0 and plan_dates(None, 0, TODAY, TODAY) == []


def test_plans_cover_the_period_every_rhythm_days() -> None:
    end = TODAY + days(20)
    assert plan_dates(TODAY - days(3), 7, TODAY, end) == [
        TODAY + days(4),
        TODAY + days(11),
        TODAY + days(18),
    ]
    assert plan_dates(TODAY - days(40), 30, TODAY, end) == [TODAY]  # overdue: at the start
    assert plan_dates(None, 14, TODAY, end) == [TODAY, TODAY + days(14)]


def test_planning_again_from_the_plans_made_adds_nothing() -> None:
    end = TODAY + days(27)
    first = plan_dates(TODAY - days(2), 7, TODAY, end)
    assert len(first) == 4
    again = plan_dates(latest(TODAY - days(2), *first), 7, TODAY, end)
    assert again == []
    assert latest(None, None) is None
