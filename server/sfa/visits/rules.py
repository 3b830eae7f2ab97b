"""Pure visit rules: which status allows which action, and how far from the customer is too far."""

from __future__ import annotations

import datetime as dt

from rules.geo import haversine_m

# A check-in farther than this from the account's location is flagged for the manager.
CHECKIN_MAX_DISTANCE_M = 500.0

# action -> the statuses it may start from
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "check_in": frozenset({"planned"}),
    "check_out": frozenset({"checked_in"}),
    "cancel": frozenset({"planned", "checked_in"}),
}


def distance_check(
    account_position: tuple[float, float] | None,
    latitude: float,
    longitude: float,
    max_distance_m: float = CHECKIN_MAX_DISTANCE_M,
) -> tuple[float | None, bool]:
    """(distance in metres rounded to 0.1, flagged); (None, False) when the account has no position.

    An account without coordinates cannot be checked, so it is not flagged: the distance stays
    empty and managers see that instead.
    """
    if account_position is None:
        return None, False
    distance = round(haversine_m(account_position[0], account_position[1], latitude, longitude), 1)
    return distance, distance > max_distance_m


def earliest_follow_up(yours: dt.date | None, theirs: dt.date | None) -> dt.date | None:
    """A next follow-up date set on two sides at once: the earlier one, so a concurrent edit
    never postpones a follow-up; a date wins over none."""
    dates = [day for day in (yours, theirs) if day is not None]
    return min(dates) if dates else None
