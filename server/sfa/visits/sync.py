"""The ``visit`` syncable entity: wire record, scope, validation and the check-in/out actions."""

from __future__ import annotations

from typing import Any

from protocol.entities.visits import (
    VISIT,
    CancelParams,
    CheckInParams,
    CheckInVerdict,
    CheckOutParams,
    VisitRecord,
    VisitStatus,
)
from server.errors import ValidationFailed
from server.settings import Settings
from server.sfa.calendar.wire import (
    appended,
    check_owner,
    check_record,
    delete_guard,
    ensure_transition,
    typed,
)
from server.sfa.visits.account_scope import scope_of_account_child
from server.sfa.visits.checkin import VisitRules, check_time, makeup, measured, stored_time
from server.sfa.visits.models import Visit
from server.sfa.visits.rules import ALLOWED_FROM, earliest_follow_up
from server.sync.registry import ActionContext, ActionHandler, EntitySpec, Policy, Rule

__all__ = ["VisitRecord", "visit_spec"]


def ensure_allowed(action: str, current: dict[str, Any]) -> None:
    """Refuse an action from a status it cannot start from (``invalid_state``)."""
    ensure_transition("visit", action, str(current.get("status")), ALLOWED_FROM)


def check_in_action(rules: VisitRules) -> ActionHandler:
    """``visit.check_in`` under ``rules``."""

    async def check_in(
        ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        """Record the arrival, its distance to the account and its verdict."""
        ensure_allowed("check_in", current)
        values = typed(params, CheckInParams)
        check_time(rules, values.at, stored_time(current.get("planned_at")))
        changes = await measured(ctx.session, rules, current, values, "check_in")
        verdict = (
            CheckInVerdict(changes["check_in_verdict"]) if changes["check_in_verdict"] else None
        )
        return {
            "status": VisitStatus.CHECKED_IN.value,
            **changes,
            **makeup(rules, values, verdict, ctx.hlc),
        }

    return check_in


def check_out_action(rules: VisitRules) -> ActionHandler:
    """``visit.check_out`` under ``rules``."""

    async def check_out(
        ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        """Record the departure and complete the visit."""
        return await _check_out(ctx, rules, current, params)

    return check_out


async def _check_out(
    ctx: ActionContext, rules: VisitRules, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    ensure_allowed("check_out", current)
    values = typed(params, CheckOutParams)
    checked_in_at = stored_time(current["check_in_at"])
    if checked_in_at is not None and values.at < checked_in_at:
        raise ValidationFailed("check-out cannot be before check-in", field="at")
    check_time(rules, values.at, None)
    changes = {
        "status": VisitStatus.COMPLETED.value,
        **await measured(ctx.session, rules, current, values, "check_out"),
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


def visit_spec(settings: Settings) -> EntitySpec:
    """The sync registration of visits, their actions configured by ``settings``."""
    rules = VisitRules.of(settings)
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
        actions={
            "check_in": check_in_action(rules),
            "check_out": check_out_action(rules),
            "cancel": cancel,
        },
        validate=validate_visit,
        may_delete=delete_guard(VISIT),
    )
