"""The wire answer of ``GET /visits/route``: the day's planned visits in the suggested order."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from protocol.entities.fields import AwareDateTime


class RouteStop(msgspec.Struct, kw_only=True):
    """One planned visit of the route; ``distance_m`` is the leg from the previous point (null
    for a visit whose account has no position: those come last, in planned order)."""

    visit_id: uuid.UUID
    account_id: uuid.UUID
    account_name: str
    planned_at: AwareDateTime
    latitude: float | None
    longitude: float | None
    distance_m: float | None


class DayRoute(msgspec.Struct, kw_only=True):
    """The suggested order of a rep's planned visits on one day of their time zone."""

    rep_id: uuid.UUID
    date: dt.date
    start_latitude: float | None
    start_longitude: float | None
    total_m: float
    stops: list[RouteStop]
