"""Fatigue control: quiet hours in the user's time zone and the hourly budget (pure)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import msgspec


class QuietHours(msgspec.Struct, frozen=True, kw_only=True):
    """A daily window in local minutes after midnight; it may wrap past midnight (22:00 to
    07:00). ``start == end`` means no quiet hours."""

    start_minute: int
    end_minute: int


def _minute(local: dt.datetime) -> int:
    return local.hour * 60 + local.minute


def in_quiet_hours(moment: dt.datetime, timezone: str, quiet: QuietHours) -> bool:
    """True when ``moment`` falls inside the window in ``timezone``."""
    start, end = quiet.start_minute, quiet.end_minute
    if start == end:
        return False
    minute = _minute(moment.astimezone(ZoneInfo(timezone)))
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def release_time(moment: dt.datetime, timezone: str, quiet: QuietHours) -> dt.datetime:
    """``moment`` itself outside quiet hours; inside them, the next end of the window (local
    wall time, so a daylight-saving change still ends it at the chosen hour), as UTC."""
    if not in_quiet_hours(moment, timezone, quiet):
        return moment
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    end = dt.time(quiet.end_minute // 60, quiet.end_minute % 60)
    release = dt.datetime.combine(local.date(), end, tzinfo=zone)
    if release <= local:
        release = dt.datetime.combine(local.date() + dt.timedelta(days=1), end, tzinfo=zone)
    return release.astimezone(dt.UTC)


def within_budget(sent_last_hour: int, taking: int, budget: int) -> int:
    """How many of ``taking`` reminders may still go out one by one this hour (0: budget
    spent, the rest fold into a digest). ``budget`` 0 means no limit."""
    if budget <= 0:
        return taking
    return max(0, min(taking, budget - sent_last_hour))


def digest_text(count: int, titles: list[str]) -> tuple[str, str]:
    """Title and body of a digest of ``count`` reminders."""
    shown = "; ".join(titles[:3])
    more = f" and {count - 3} more" if count > 3 else ""
    return f"{count} reminders", f"{shown}{more}"
