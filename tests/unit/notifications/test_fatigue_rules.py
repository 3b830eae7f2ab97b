"""Quiet hours, the hourly budget and the outbox's backoff (pure)."""

from __future__ import annotations

import datetime as dt
import random

from rules.fatigue import QuietHours, digest_text, in_quiet_hours, release_time, within_budget
from server.notifications.outbox import backoff_seconds

NIGHT = QuietHours(start_minute=22 * 60, end_minute=7 * 60)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def test_quiet_hours_wrap_past_midnight_in_the_users_zone() -> None:
    # Shanghai is UTC+8: 14:00 UTC is 22:00 there, 22:59 UTC is 06:59
    assert not in_quiet_hours(utc(2026, 6, 1, 13, 59), "Asia/Shanghai", NIGHT)
    assert in_quiet_hours(utc(2026, 6, 1, 14, 0), "Asia/Shanghai", NIGHT)
    assert in_quiet_hours(utc(2026, 6, 1, 22, 59), "Asia/Shanghai", NIGHT)
    assert not in_quiet_hours(utc(2026, 6, 1, 23, 0), "Asia/Shanghai", NIGHT)
    assert not in_quiet_hours(utc(2026, 6, 1, 14, 0), "UTC", NIGHT)


def test_a_moment_inside_is_released_at_the_next_end() -> None:
    assert release_time(utc(2026, 6, 1, 15, 0), "Asia/Shanghai", NIGHT) == utc(2026, 6, 1, 23)
    assert release_time(utc(2026, 6, 1, 2, 0), "UTC", NIGHT) == utc(2026, 6, 1, 7)
    assert release_time(utc(2026, 6, 1, 12, 0), "UTC", NIGHT) == utc(2026, 6, 1, 12)


def test_the_end_is_local_wall_time_across_a_daylight_saving_change() -> None:
    # New York springs forward on 2026-03-08: 07:00 local is 11:00 UTC that morning
    assert release_time(utc(2026, 3, 8, 6, 0), "America/New_York", NIGHT) == utc(2026, 3, 8, 11)
    assert release_time(utc(2026, 3, 7, 6, 0), "America/New_York", NIGHT) == utc(2026, 3, 7, 12)


def test_a_daytime_window_and_an_empty_one() -> None:
    lunch = QuietHours(start_minute=12 * 60, end_minute=13 * 60)
    assert release_time(utc(2026, 6, 1, 12, 30), "UTC", lunch) == utc(2026, 6, 1, 13)
    assert not in_quiet_hours(utc(2026, 6, 1, 3), "UTC", QuietHours(start_minute=0, end_minute=0))


def test_the_budget_lets_through_what_is_left_of_the_hour() -> None:
    assert within_budget(0, 10, 6) == 6
    assert within_budget(4, 10, 6) == 2
    assert within_budget(9, 3, 6) == 0
    assert within_budget(100, 3, 0) == 3  # 0: no limit
    assert digest_text(5, ["a", "b", "c", "d", "e"]) == ("5 reminders", "a; b; c and 2 more")


def test_backoff_doubles_with_jitter_up_to_its_cap_and_honours_retry_after() -> None:
    rng = random.Random(1)
    for attempt, ceiling in ((1, 30), (2, 60), (3, 120), (10, 3600)):
        delays = [backoff_seconds(attempt, 30, 3600, rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not fixed
    assert backoff_seconds(1, 30, 3600, rng, retry_after=900) == 900
