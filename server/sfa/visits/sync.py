"""The ``visit`` syncable entity: wire record, scope, validation and the check-in/out actions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import ValidationFailed
from server.sfa.accounts.models import Account
from server.sfa.calendar.wire import (
    AwareDateTime,
    Latitude,
    Longitude,
    Meters,
    appended,
    check_owner,
    ensure_transition,
    typed,
)
from server.sfa.visits.account_scope import scope_of_account_child
from server.sfa.visits.models import Visit, VisitStatus
from server.sfa.visits.rules import ALLOWED_FROM, distance_check, earliest_follow_up
from server.sync.registry import ENGINE_FIELDS, ActionContext, EntitySpec, Policy, Rule

CHECK_FIELDS = ("at", "latitude", "longitude", "accuracy_m", "distance_m", "flagged")
SERVER_FIELDS = (
    ENGINE_FIELDS
    | {"status"}
    | {f"check_in_{name}" for name in CHECK_FIELDS}
    | {f"check_out_{name}" for name in CHECK_FIELDS}
)
Outcome = Annotated[str, msgspec.Meta(max_length=500)]


class VisitRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A visit on the wire."""

    id: uuid.UUID
    version: int = 1
    account_id: uuid.UUID | None = None
    rep_id: uuid.UUID | None = None
    planned_at: AwareDateTime | None = None
    status: VisitStatus = VisitStatus.PLANNED
    check_in_at: AwareDateTime | None = None
    check_in_latitude: float | None = None
    check_in_longitude: float | None = None
    check_in_accuracy_m: float | None = None
    check_in_distance_m: float | None = None
    check_in_flagged: bool = False
    check_out_at: AwareDateTime | None = None
    check_out_latitude: float | None = None
    check_out_longitude: float | None = None
    check_out_accuracy_m: float | None = None
    check_out_distance_m: float | None = None
    check_out_flagged: bool = False
    notes: str = ""
    outcome: Outcome = ""
    next_follow_up_on: dt.date | None = None
    created_at: AwareDateTime | None = None
    updated_at: AwareDateTime | None = None


class CheckInParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``visit.check_in``: where and when the rep arrived, as the phone reported it."""

    at: AwareDateTime
    latitude: Latitude
    longitude: Longitude
    accuracy_m: Meters | None = None


class CheckOutParams(CheckInParams, kw_only=True):
    """``visit.check_out``: the departure, and optionally the visit's result."""

    outcome: Outcome | None = None
    notes: str | None = None
    next_follow_up_on: dt.date | None = None


class CheckInAt(msgspec.Struct):
    """The stored check-in time, typed."""

    at: AwareDateTime


class CancelParams(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``visit.cancel`` takes an optional reason, appended to the notes."""

    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


def ensure_allowed(action: str, current: dict[str, Any]) -> None:
    """Refuse an action from a status it cannot start from (``invalid_state``)."""
    ensure_transition("visit", action, str(current.get("status")), ALLOWED_FROM)


async def account_position(session: AsyncSession, account_id: Any) -> tuple[float, float] | None:
    """The account's (latitude, longitude), or None when it has none."""
    row = (
        await session.execute(
            sa.select(Account.latitude, Account.longitude).where(
                Account.id == uuid.UUID(str(account_id))
            )
        )
    ).first()
    if row is None or row.latitude is None or row.longitude is None:
        return None
    return row.latitude, row.longitude


async def _check(
    ctx: ActionContext, current: dict[str, Any], params: CheckInParams, prefix: str
) -> dict[str, Any]:
    position = await account_position(ctx.session, current["account_id"])
    distance, flagged = distance_check(position, params.latitude, params.longitude)
    return {
        f"{prefix}_at": params.at,
        f"{prefix}_latitude": params.latitude,
        f"{prefix}_longitude": params.longitude,
        f"{prefix}_accuracy_m": params.accuracy_m,
        f"{prefix}_distance_m": distance,
        f"{prefix}_flagged": flagged,
    }


async def check_in(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``visit.check_in``: record the arrival and its distance to the account."""
    ensure_allowed("check_in", current)
    values = typed(params, CheckInParams)
    return {
        "status": VisitStatus.CHECKED_IN.value,
        **await _check(ctx, current, values, "check_in"),
    }


async def check_out(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``visit.check_out``: record the departure and complete the visit."""
    ensure_allowed("check_out", current)
    values = typed(params, CheckOutParams)
    checked_in_at = typed({"at": current["check_in_at"]}, CheckInAt).at
    if values.at < checked_in_at:
        raise ValidationFailed("check-out cannot be before check-in", field="at")
    changes = {
        "status": VisitStatus.COMPLETED.value,
        **await _check(ctx, current, values, "check_out"),
    }
    if values.outcome is not None:
        changes["outcome"] = values.outcome
    if values.notes:
        changes["notes"] = appended(current.get("notes") or "", values.notes)
    if values.next_follow_up_on is not None:
        changes["next_follow_up_on"] = values.next_follow_up_on
    return changes


async def cancel(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``visit.cancel``: a planned or ongoing visit will not happen."""
    ensure_allowed("cancel", current)
    values = typed(params, CancelParams)
    changes: dict[str, Any] = {"status": VisitStatus.CANCELLED.value}
    if values.reason:
        changes["notes"] = appended(current.get("notes") or "", values.reason)
    return changes


async def validate_visit(
    ctx: ActionContext, record: dict[str, Any], old: dict[str, Any] | None
) -> None:
    """Check a visit after a merge; on create the rep defaults to the pusher."""
    check_owner(ctx.principal.user_id, ctx.principal.role, record, old, "rep_id")
    visit = typed(record, VisitRecord)
    if visit.account_id is None:
        raise ValidationFailed("account_id is required", field="account_id")
    if visit.planned_at is None:
        raise ValidationFailed("planned_at is required", field="planned_at")


def visit_spec() -> EntitySpec:
    """The sync registration of visits."""
    return EntitySpec(
        name="visit",
        table=Visit.__table__,  # type: ignore[arg-type]
        record_type=VisitRecord,
        scope=scope_of_account_child,
        parent=("account", "account_id"),
        server_fields=frozenset(SERVER_FIELDS),
        policies={
            "notes": Policy.APPEND,
            "status": Policy.SERVER_WINS,
            "next_follow_up_on": Rule("earliest_follow_up", earliest_follow_up),
        },
        actions={"check_in": check_in, "check_out": check_out, "cancel": cancel},
        validate=validate_visit,
    )
