"""rules.visits: the bounds of a check-in time and when a check-in is a make-up."""

from __future__ import annotations

import datetime as dt

from protocol.entities.visits import CheckInVerdict
from rules.visits import check_in_time_problem, is_after_the_fact, needs_makeup

NOW = dt.datetime(2026, 5, 6, 12, 0, tzinfo=dt.UTC)
SKEW = dt.timedelta(minutes=5)
EARLY = dt.timedelta(hours=12)
HOUR = dt.timedelta(hours=1)


def problem(at: dt.datetime, planned_at: dt.datetime | None = NOW) -> str | None:
    found = check_in_time_problem(at, now=NOW, planned_at=planned_at, max_skew=SKEW, early=EARLY)
    return found[0] if found else None


def test_a_time_ahead_of_the_server_is_believed_up_to_the_skew() -> None:
    assert problem(NOW + SKEW) is None
    assert problem(NOW + SKEW + dt.timedelta(seconds=1)) == "time_in_future"


def test_a_time_before_the_plan_is_refused_past_the_early_window() -> None:
    assert problem(NOW - EARLY) is None
    assert problem(NOW - EARLY - dt.timedelta(seconds=1)) == "before_plan"
    assert problem(NOW - 10 * EARLY, planned_at=None) is None
    assert problem(NOW + 3 * HOUR, planned_at=NOW + 48 * HOUR) == "time_in_future"


def test_a_make_up_is_a_late_entry_or_an_outside_check_in() -> None:
    late = dt.timedelta(minutes=60)
    assert not is_after_the_fact(NOW - late, NOW, late)
    assert is_after_the_fact(NOW - late - dt.timedelta(seconds=1), NOW, late)
    assert needs_makeup(CheckInVerdict.OUTSIDE, NOW, NOW, late)
    assert not needs_makeup(CheckInVerdict.UNCERTAIN, NOW, NOW, late)
    assert not needs_makeup(CheckInVerdict.INSIDE, NOW, NOW, late)
    assert not needs_makeup(None, NOW, NOW, late)
    assert needs_makeup(CheckInVerdict.INSIDE, NOW - 2 * HOUR, NOW, late)
