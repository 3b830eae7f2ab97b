"""Checks of a whole record that the server's validators and the SDK both run.

Each check takes the entity's typed wire record (``protocol.entities``) and raises
``RuleViolation`` naming the field; the server answers it as ``validation_error`` and the SDK
raises it at once, before the write is stored or queued.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from protocol.entities.calendar import CalendarEventRecord
from protocol.entities.documents import OrderRecord, QuoteRecord
from protocol.entities.opportunities import OpportunityRecord, Stage
from protocol.entities.visits import VisitRecord


class RuleViolation(ValueError):
    """A record that breaks a domain rule; ``field`` names the offending field."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def require(value: Any, field: str) -> None:
    """Refuse a missing value."""
    if value is None:
        raise RuleViolation(f"{field} is required", field)


def require_text(value: str, field: str) -> None:
    """Refuse an empty or blank text."""
    if not value.strip():
        raise RuleViolation(f"{field} must not be empty", field)


def check_visit(visit: VisitRecord) -> None:
    """A visit is planned at an account, at a time."""
    require(visit.account_id, "account_id")
    require(visit.planned_at, "planned_at")


def check_opportunity(opportunity: OpportunityRecord) -> None:
    """An opportunity has an account, a name, an amount >= 0; a lost one says why."""
    require(opportunity.account_id, "account_id")
    require_text(opportunity.name, "name")
    if not opportunity.amount.is_finite() or opportunity.amount < 0:
        raise RuleViolation("amount must be a number >= 0", "amount")
    if opportunity.stage is Stage.LOST and not opportunity.lost_reason.strip():
        raise RuleViolation("a lost opportunity needs a lost_reason", "lost_reason")


def check_document(document: QuoteRecord | OrderRecord) -> None:
    """A quote or an order belongs to an account."""
    require(document.account_id, "account_id")


def check_calendar_event(event: CalendarEventRecord) -> None:
    """An event has a title and ends after it starts."""
    require_text(event.title, "title")
    starts, ends = event.starts_at, event.ends_at
    if starts is None:
        raise RuleViolation("starts_at is required", "starts_at")
    if ends is None:
        raise RuleViolation("ends_at is required", "ends_at")
    if ends <= starts:
        raise RuleViolation("ends_at must be after starts_at", "ends_at")


# by the shared record Struct each check takes
RECORD_RULES: dict[type[Any], Callable[[Any], None]] = {
    VisitRecord: check_visit,
    OpportunityRecord: check_opportunity,
    QuoteRecord: check_document,
    OrderRecord: check_document,
    CalendarEventRecord: check_calendar_event,
}


def check_record(record: Any) -> None:
    """Run the domain checks of ``record``'s type, if it has any."""
    check = RECORD_RULES.get(type(record))
    if check is not None:
        check(record)
