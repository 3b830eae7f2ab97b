"""Measuring a check-in or check-out on the server: the account's place, its radius (its own,
else its segment's from the settings, else the default), and the verdict of ``rules.geo`` (the
SDK runs the same rule offline)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol import errors as codes
from protocol import hlc as hlcs
from protocol.entities.fields import AwareDateTime
from protocol.entities.visits import Approval, CheckInParams, PositionParams
from rules.geo import measure_check_in, parse_radius_by_segment, radius_for
from rules.visits import check_in_time_problem, needs_makeup
from server.db import utcnow
from server.errors import ValidationFailed
from server.settings import Settings
from server.sfa.accounts.models import Account


@dataclass(frozen=True)
class VisitRules:
    """The visit settings the actions apply, read once when the app is built."""

    radius_m: float
    radius_by_segment: Mapping[str, float]
    max_skew: dt.timedelta
    early: dt.timedelta
    makeup_after: dt.timedelta

    @classmethod
    def of(cls, settings: Settings) -> VisitRules:
        """The rules of ``settings`` (a malformed per-segment radius fails at startup)."""
        return cls(
            radius_m=settings.visit_checkin_radius_m,
            radius_by_segment=parse_radius_by_segment(settings.visit_checkin_radius_by_segment),
            max_skew=dt.timedelta(seconds=settings.sync_max_clock_skew_seconds),
            early=dt.timedelta(hours=settings.visit_checkin_early_hours),
            makeup_after=dt.timedelta(minutes=settings.visit_makeup_after_minutes),
        )


@dataclass(frozen=True)
class AccountPlace:
    """Where the account is (None without coordinates), its segment and its own radius."""

    position: tuple[float, float] | None
    segment: str | None
    radius_m: float | None = None


async def account_place(session: AsyncSession, account_id: Any) -> AccountPlace:
    """The account's position, segment and own check-in radius."""
    row = (
        await session.execute(
            sa.select(
                Account.latitude, Account.longitude, Account.segment, Account.checkin_radius_m
            ).where(Account.id == uuid.UUID(str(account_id)))
        )
    ).first()
    if row is None:
        return AccountPlace(None, None)
    position = None
    if row.latitude is not None and row.longitude is not None:
        position = (row.latitude, row.longitude)
    segment = str(row.segment) if row.segment is not None else None
    return AccountPlace(position, segment, row.checkin_radius_m)


async def measured(
    session: AsyncSession,
    rules: VisitRules,
    current: dict[str, Any],
    params: PositionParams,
    prefix: str,
) -> dict[str, Any]:
    """The ``<prefix>_*`` fields of a check-in or check-out as the server measures them."""
    place = await account_place(session, current["account_id"])
    radius = radius_for(
        place.segment, rules.radius_by_segment, rules.radius_m, account_m=place.radius_m
    )
    measure = measure_check_in(
        place.position, params.latitude, params.longitude, params.accuracy_m, radius
    )
    changes: dict[str, Any] = {
        f"{prefix}_at": params.at,
        f"{prefix}_latitude": params.latitude,
        f"{prefix}_longitude": params.longitude,
        f"{prefix}_accuracy_m": params.accuracy_m,
        f"{prefix}_distance_m": measure.distance_m,
        f"{prefix}_flagged": measure.flagged,
    }
    if prefix == "check_in":
        changes["check_in_verdict"] = measure.verdict.value if measure.verdict else None
        changes["check_in_radius_m"] = radius
    return changes


class StoredTime(msgspec.Struct):
    """A stored time of the visit record, typed."""

    at: AwareDateTime | None


def stored_time(value: Any) -> dt.datetime | None:
    """A time field of the current record (a wire string) as an aware datetime."""
    return msgspec.convert({"at": value}, StoredTime, strict=False).at


def check_time(rules: VisitRules, at: dt.datetime, planned_at: dt.datetime | None) -> None:
    """Refuse a check-in/out time that cannot be true (``rules.visits``), field ``at``."""
    problem = check_in_time_problem(
        at, now=utcnow(), planned_at=planned_at, max_skew=rules.max_skew, early=rules.early
    )
    if problem is not None:
        code, message = problem
        raise ValidationFailed(message, field="at", code=code)


def recorded_at(hlc: str) -> dt.datetime:
    """When the phone recorded the mutation, by its clock (the physical part of its hybrid
    logical clock, already bounded by the server's time plus the skew)."""
    ms, _counter, _node = hlcs.decode(hlc)
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def makeup(rules: VisitRules, params: CheckInParams, verdict: Any, hlc: str) -> dict[str, Any]:
    """The make-up fields of a check-in: pending approval with its reason when it is one (a
    late entry or outside the radius); ``makeup_reason_required`` when the reason is missing."""
    if not needs_makeup(verdict, params.at, recorded_at(hlc), rules.makeup_after):
        return {"approval": Approval.NONE.value}
    if params.makeup_reason is None:
        raise ValidationFailed(
            "a check-in after the fact or outside the radius needs a make-up reason",
            field="makeup_reason",
            code=codes.MAKEUP_REASON_REQUIRED,
        )
    return {
        "approval": Approval.PENDING.value,
        "makeup_reason": params.makeup_reason.value,
        "makeup_note": params.makeup_note or "",
    }
