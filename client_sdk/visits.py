"""Offline visit helpers: the day's route and the check-in verdict, with the server's rules.

They read the local store only (no network), so a rep sees the same order and the same verdict
the server computes (``rules.routes``, ``rules.geo``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

from rules.geo import DEFAULT_CHECKIN_RADIUS_M, CheckInMeasure, measure_check_in, radius_for
from rules.routes import DayPlan, Position, plan_day
from rules.visits import needs_makeup


def _position(account: dict[str, Any] | None) -> Position | None:
    if account is None or account.get("latitude") is None or account.get("longitude") is None:
        return None
    return float(account["latitude"]), float(account["longitude"])


def day_route(
    client: Any, day: dt.date, start: Position | None = None, zone: str | None = None
) -> DayPlan:
    """The logged-in rep's planned visits of ``day`` (in ``zone``, default the user's time zone)
    in the suggested order; ``GET /visits/route`` answers the same for the same records."""
    user = client.user
    if user is None:
        raise RuntimeError("log in first: the route is the logged-in rep's")
    tz = zoneinfo.ZoneInfo(zone or user.timezone or "UTC")
    begin = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    planned = client.query("visit", {"rep_id": user.id, "status": "planned"})

    def at(visit: dict[str, Any]) -> dt.datetime:
        return dt.datetime.fromisoformat(str(visit["planned_at"]).replace("Z", "+00:00"))

    todays = sorted(
        (v for v in planned if v.get("planned_at") and begin <= at(v) < end),
        key=lambda v: (at(v), v["id"]),
    )
    return plan_day(
        start, [(v["id"], _position(client.get("account", v["account_id"]))) for v in todays]
    )


def check_in_verdict(
    client: Any,
    visit_id: str,
    latitude: float,
    longitude: float,
    accuracy_m: float | None,
    *,
    radius_m: float = DEFAULT_CHECKIN_RADIUS_M,
    radius_by_segment: Mapping[str, float] | None = None,
) -> CheckInMeasure:
    """The verdict the server will give this check-in of a local visit: distance to its account,
    ``inside`` / ``outside`` / ``uncertain`` (None without the account's position).

    The radius is the account's own ``checkin_radius_m`` (synced with it), else the segment's
    from ``radius_by_segment``, else ``radius_m``: those two are the server's
    ``visit_checkin_radius_by_segment`` and ``visit_checkin_radius_m`` settings (the app is
    configured with the same values)."""
    visit = client.get("visit", visit_id)
    if visit is None:
        raise KeyError(f"visit {visit_id} is not on this device")
    account = client.get("account", visit["account_id"])
    segment = account.get("segment") if account else None
    own = account.get("checkin_radius_m") if account else None
    radius = radius_for(
        segment, radius_by_segment or {}, radius_m, account_m=None if own is None else float(own)
    )
    return measure_check_in(_position(account), latitude, longitude, accuracy_m, radius)


def makeup_needed(
    measure: CheckInMeasure,
    at: dt.datetime,
    *,
    now: dt.datetime | None = None,
    makeup_after_minutes: int = 60,
) -> bool:
    """True when the server will ask this check-in for a make-up reason (补签): outside the
    radius, or entered more than ``makeup_after_minutes`` (the server's
    ``visit_makeup_after_minutes``) after ``at``; the app then asks the rep for the reason."""
    recorded = now or dt.datetime.now(dt.UTC)
    return needs_makeup(measure.verdict, at, recorded, dt.timedelta(minutes=makeup_after_minutes))
