"""The SFA's named merge rules, as pure functions."""

from __future__ import annotations

import datetime as dt

from server.sfa.calendar.rules import MAX_REMINDERS, union_of_reminders
from server.sfa.visits.rules import earliest_follow_up


def test_reminders_set_on_both_sides_are_all_kept_soonest_first() -> None:
    assert union_of_reminders([60, 15], [1440, 15]) == [15, 60, 1440]
    assert union_of_reminders([], [30]) == [30]
    assert union_of_reminders(None, None) == []


def test_the_union_of_reminders_stays_within_the_limit_keeping_the_nearest() -> None:
    yours = list(range(0, 2 * MAX_REMINDERS, 2))
    theirs = list(range(1, 2 * MAX_REMINDERS, 2))
    merged = union_of_reminders(yours, theirs)
    assert merged == list(range(MAX_REMINDERS))


def test_a_follow_up_is_never_postponed_by_a_concurrent_edit() -> None:
    may, june = dt.date(2030, 5, 1), dt.date(2030, 6, 1)
    assert earliest_follow_up(june, may) == may
    assert earliest_follow_up(may, june) == may
    assert earliest_follow_up(None, june) == june
    assert earliest_follow_up(may, None) == may
    assert earliest_follow_up(None, None) is None
