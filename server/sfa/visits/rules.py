"""Pure visit rules: which status allows which action, and the follow-up merge rule (the
check-in verdict is ``rules.geo``, shared with the SDK)."""

from __future__ import annotations

import datetime as dt

# action -> the statuses it may start from
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "check_in": frozenset({"planned"}),
    "check_out": frozenset({"checked_in"}),
    "cancel": frozenset({"planned", "checked_in"}),
}


def earliest_follow_up(yours: dt.date | None, theirs: dt.date | None) -> dt.date | None:
    """A next follow-up date set on two sides at once: the earlier one, so a concurrent edit
    never postpones a follow-up; a date wins over none."""
    dates = [day for day in (yours, theirs) if day is not None]
    return min(dates) if dates else None
