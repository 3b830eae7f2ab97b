"""The ``expense`` syncable entity: private to its owner, edited while a draft (or refused),
submitted with ``expense.submit``; the decision is the manager's (REST, ``service``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.entities.definition import ENGINE_FIELDS
from protocol.entities.expenses import EXPENSE, ExpenseRecord, ExpenseStatus
from protocol.errors import INVALID_STATE
from server.db import utcnow
from server.errors import Conflict, Forbidden, ValidationFailed
from server.sfa.calendar.wire import check_owner, ensure_transition, parse_uuid, typed
from server.sfa.expenses.models import ExpenseReport
from server.sfa.expenses.receipts import check_line_receipts
from server.sync.registry import ActionContext, EntitySpec, Policy, user_key

__all__ = ["ExpenseRecord", "expense_spec"]

EDITABLE = frozenset({ExpenseStatus.DRAFT.value, ExpenseStatus.REFUSED.value})
ALLOWED_FROM = {"submit": EDITABLE}
CONTENT_FIELDS = ("title", "lines", "notes")


async def scope_of_expense(_session: Any, record: Mapping[str, Any]) -> str:
    """A report is private to its owner (and synced to nobody else's device but managers')."""
    owner_id = record.get("owner_id")
    if owner_id is None:
        raise ValidationFailed("owner_id is required", field="owner_id")
    return user_key(parse_uuid(owner_id, "owner_id"))


async def validate_expense(
    ctx: ActionContext, record: dict[str, Any], old: dict[str, Any] | None
) -> None:
    """Only the owner writes a report, only while it is a draft or was refused, and its lines
    name only receipts of the owner."""
    check_owner(ctx.principal.user_id, ctx.principal.role, record, old, "owner_id", frozen=True)
    if str(record.get("owner_id")) != str(ctx.principal.user_id):
        raise Forbidden("only its owner edits an expense report", field="owner_id")
    typed(record, ExpenseRecord)
    if old is not None and str(old.get("status")) not in EDITABLE:
        changed = [name for name in CONTENT_FIELDS if record.get(name) != old.get(name)]
        if changed:
            raise Conflict(
                f"an expense report that is {old.get('status')} cannot be edited",
                field=changed[0],
                code=INVALID_STATE,
                data={"status": old.get("status")},
            )
        return  # its lines are those checked when they were written
    await check_line_receipts(ctx.session, record.get("owner_id"), record.get("lines"))


async def submit(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``expense.submit``: a draft (or refused) report with lines goes to the manager."""
    if str(current.get("owner_id")) != str(ctx.principal.user_id):
        raise Forbidden("only its owner submits an expense report", field="owner_id")
    ensure_transition("expense", "submit", str(current.get("status")), ALLOWED_FROM)
    if not current.get("lines"):
        raise ValidationFailed("an expense report without lines cannot be submitted", field="lines")
    return {
        "status": ExpenseStatus.SUBMITTED.value,
        "submitted_at": utcnow(),
        "decided_by": None,
        "decided_at": None,
    }


def expense_spec() -> EntitySpec:
    """The sync registration of expense reports."""
    return EntitySpec.of(
        EXPENSE,
        table=ExpenseReport.__table__,
        scope=scope_of_expense,
        scope_fields=frozenset({"owner_id"}),
        policies={"notes": Policy.APPEND}
        | {name: Policy.SERVER_WINS for name in EXPENSE.server_fields - ENGINE_FIELDS},
        actions={"submit": submit},
        validate=validate_expense,
    )
