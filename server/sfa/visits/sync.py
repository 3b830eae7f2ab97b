"""The ``visit`` syncable entity: wire record, scope, validation and the check-in/out actions."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities.fields import AwareDateTime
from protocol.entities.visits import (
    VISIT,
    CancelParams,
    CheckInParams,
    CheckOutParams,
    VisitRecord,
    VisitStatus,
)
from server.errors import ValidationFailed
from server.sfa.accounts.models import Account
from server.sfa.calendar.wire import appended, check_owner, check_record, ensure_transition, typed
from server.sfa.visits.account_scope import scope_of_account_child
from server.sfa.visits.models import Visit
from server.sfa.visits.rules import ALLOWED_FROM, distance_check, earliest_follow_up
from server.sync.registry import ActionContext, EntitySpec, Policy, Rule

__all__ = ["VisitRecord", "visit_spec"]


class CheckInAt(msgspec.Struct):
    """The stored check-in time, typed."""

    at: AwareDateTime


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
    check_record(typed(record, VisitRecord))


def visit_spec() -> EntitySpec:
    """The sync registration of visits."""
    return EntitySpec.of(
        VISIT,
        table=Visit.__table__,
        scope=scope_of_account_child,
        parent=("account", "account_id"),
        policies={
            "notes": Policy.APPEND,
            "status": Policy.SERVER_WINS,
            "next_follow_up_on": Rule("earliest_follow_up", earliest_follow_up),
        },
        actions={"check_in": check_in, "check_out": check_out, "cancel": cancel},
        validate=validate_visit,
    )
