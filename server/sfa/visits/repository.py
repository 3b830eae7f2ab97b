"""Named queries over visits for managers (visit compliance)."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import msgspec
import sqlalchemy as sa

from server.auth.models import User
from server.sfa.accounts.models import Account
from server.sfa.scopes import Visibility
from server.sfa.visits.models import Approval, Visit, VisitStatus

visits: sa.Table = Visit.__table__  # type: ignore[assignment]
accounts: sa.Table = Account.__table__  # type: ignore[assignment]


class VisitFilters(msgspec.Struct, kw_only=True):
    """Optional filters of the visit list."""

    rep_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    status: VisitStatus | None = None
    flagged: bool | None = None
    approval: Approval | None = None
    planned_from: dt.datetime | None = None
    planned_to: dt.datetime | None = None


def visible_visits(seen: Visibility) -> sa.Select[Any]:
    """Visits of the accounts ``seen`` allows (the same rule as the accounts list and sync)."""
    return (
        sa.select(visits)
        .join(accounts, accounts.c.id == visits.c.account_id)
        .where(seen.account_filter(accounts.c.territory_id, accounts.c.owner_id))
    )


def filtered_visits(seen: Visibility, filters: VisitFilters) -> sa.Select[Any]:
    """The visible visits matching ``filters`` (unordered; the pager orders by id)."""
    statement = visible_visits(seen)
    c = visits.c
    for name in ("rep_id", "account_id", "status", "approval"):
        value = getattr(filters, name)
        if value is not None:
            statement = statement.where(c[name] == value)
    if filters.flagged is not None:
        flagged = sa.or_(c.check_in_flagged, c.check_out_flagged)
        statement = statement.where(flagged if filters.flagged else sa.not_(flagged))
    if filters.planned_from is not None:
        statement = statement.where(c.planned_at >= filters.planned_from)
    if filters.planned_to is not None:
        statement = statement.where(c.planned_at < filters.planned_to)
    return statement


def day_bounds(day: dt.date, zone: str = "UTC") -> tuple[dt.datetime, dt.datetime]:
    """The calendar day ``day`` in the time zone ``zone`` as a UTC [start, end)."""
    tz = zoneinfo.ZoneInfo(zone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def rep_timezone(rep_id: uuid.UUID) -> sa.Select[Any]:
    """The time zone of a user (the rep's working day)."""
    return sa.select(User.timezone).where(User.id == rep_id)


def planned_visits_of_day(
    seen: Visibility, rep_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> sa.Select[Any]:
    """The rep's visible visits still ``planned`` in [start, end), with their account's
    position, in planned order."""
    return (
        sa.select(
            visits.c.id,
            visits.c.account_id,
            visits.c.planned_at,
            accounts.c.name.label("account_name"),
            accounts.c.latitude,
            accounts.c.longitude,
        )
        .join(accounts, accounts.c.id == visits.c.account_id)
        .where(
            seen.account_filter(accounts.c.territory_id, accounts.c.owner_id),
            visits.c.rep_id == rep_id,
            visits.c.status == VisitStatus.PLANNED,
            visits.c.planned_at >= start,
            visits.c.planned_at < end,
        )
        .order_by(visits.c.planned_at, visits.c.id)
    )
