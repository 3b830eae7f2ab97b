"""Reminder rules: pure functions from a record's facts (and ``now``) to the reminders it is due.

Each rule answers every reminder its record calls for, whatever the time; the generator keeps
those due within its look-ahead, and the dispatcher asks the rule again, on the record as it
is then, whether the occurrence it is about to send is still among them. So a reminder made
moot (the visit checked in offline, the follow-up done, the event deleted or moved) is
suppressed at dispatch, even when it was queued long before. The idempotency key of a
reminder is ``(rule, record_id, occurrence)``: the occurrence names what it reminds of (the
start time and the offset, the follow-up date, ...), so a moved event gets new reminders
and the old ones become moot.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

EVENT_UPCOMING = "event_upcoming"
VISIT_UPCOMING = "visit_upcoming"
FOLLOW_UP_DUE = "follow_up_due"
QUOTE_EXPIRING = "quote_expiring"
APPROVAL_WAITING = "approval_waiting"
VIP_NOT_VISITED = "vip_not_visited"
ORDER_ON_HOLD = "order_on_hold"
ORDER_RELEASED = "order_released"
INSTALMENT_OVERDUE = "instalment_overdue"
DISCOUNT_APPROVAL_WAITING = "discount_approval_waiting"
EXPENSE_APPROVAL_WAITING = "expense_approval_waiting"
DIGEST = "digest"  # reminders over a user's hourly budget, folded into one

RULES: dict[str, str] = {
    EVENT_UPCOMING: "a calendar event starts soon (its reminder offsets)",
    VISIT_UPCOMING: "a planned visit starts soon",
    FOLLOW_UP_DUE: "the follow-up date a visit set is reached",
    QUOTE_EXPIRING: "a sent quote expires soon",
    APPROVAL_WAITING: "a make-up check-in waits for the manager's decision",
    VIP_NOT_VISITED: "a VIP account was not visited within its rhythm",
    ORDER_ON_HOLD: "an order was put on hold (credit, stock, blacklist)",
    ORDER_RELEASED: "the order desk released an order from hold",
    INSTALMENT_OVERDUE: "a contract's instalment is past its due date and not paid",
    DISCOUNT_APPROVAL_WAITING: "a quote or order waits for the manager's discount approval",
    EXPENSE_APPROVAL_WAITING: "an expense report waits for the manager's decision",
    DIGEST: "reminders beyond the hourly budget, folded into one",
}


class Reminder(msgspec.Struct, frozen=True, kw_only=True):
    """One reminder a rule calls for."""

    rule: str
    record_id: uuid.UUID
    user_id: uuid.UUID
    occurrence: str
    due_at: dt.datetime
    title: str
    body: str
    # a newer reminder with the same key replaces the older one on the phone
    collapse_key: str
    data: dict[str, str] = {}


class EventFacts(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    kind: str
    status: str
    starts_at: dt.datetime
    reminder_offsets: tuple[int, ...] = ()


class VisitFacts(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    rep_id: uuid.UUID
    account_id: uuid.UUID
    account_name: str
    status: str
    planned_at: dt.datetime
    approval: str = "none"
    check_in_at: dt.datetime | None = None
    next_follow_up_on: dt.date | None = None
    # the latest check-in at the same account after this visit's (a follow-up done)
    later_check_in_at: dt.datetime | None = None
    manager_id: uuid.UUID | None = None


class QuoteFacts(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    owner_id: uuid.UUID
    number: str
    status: str
    valid_until: dt.date | None


class OrderFacts(msgspec.Struct, frozen=True, kw_only=True):
    """An order and its latest transition (``order_transitions``)."""

    id: uuid.UUID
    owner_id: uuid.UUID
    number: str
    status: str
    hold_reason: str | None
    transition_id: uuid.UUID
    action: str  # the latest transition's
    to_status: str
    moved_at: dt.datetime
    actor_id: uuid.UUID | None = None


class InstalmentFacts(msgspec.Struct, frozen=True, kw_only=True):
    """An instalment with its contract's owner and status."""

    id: uuid.UUID
    owner_id: uuid.UUID | None  # the contract's rep
    account_name: str
    contract_status: str
    seq: int
    due_date: dt.date
    outstanding: decimal.Decimal
    currency: str
    status: str


class ApprovalRequestFacts(msgspec.Struct, frozen=True, kw_only=True):
    """A document waiting for a manager: a quote or order above its submitter's discount
    authority, or a submitted expense report."""

    id: uuid.UUID
    entity: str  # the synced entity: quote, order, expense
    requester_id: uuid.UUID
    manager_id: uuid.UUID | None  # the requester's manager
    label: str
    pending: bool
    requested_at: dt.datetime
    # what the approval covers (the priced content's fingerprint, the submission time): a new
    # request after a refusal is a new occurrence
    occurrence: str


class AccountFacts(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    value_tier: str
    last_visit_on: dt.date | None


def _local_at(day: dt.date, hour: int, timezone: str) -> dt.datetime:
    """``hour`` o'clock of ``day`` in ``timezone``, as UTC."""
    local = dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.UTC)


def event_reminders(event: EventFacts, now: dt.datetime) -> list[Reminder]:
    """One reminder per offset (minutes before the start) of an open event not started yet."""
    if event.status != "open" or event.starts_at <= now:
        return []
    start = event.starts_at.isoformat()
    return [
        Reminder(
            rule=EVENT_UPCOMING,
            record_id=event.id,
            user_id=event.owner_id,
            occurrence=f"{start}/{offset}",
            due_at=event.starts_at - dt.timedelta(minutes=offset),
            title=event.title or event.kind.replace("_", " "),
            body=f"starts in {offset} min" if offset else "starts now",
            collapse_key=f"event:{event.id}",
            data={"entity": "calendar_event"},
        )
        for offset in sorted(set(event.reminder_offsets))
        if offset >= 0
    ]


def visit_reminders(
    visit: VisitFacts, offsets: tuple[int, ...], now: dt.datetime
) -> list[Reminder]:
    """Reminders of a planned visit not started yet, ``offsets`` minutes before its time."""
    if visit.status != "planned" or visit.planned_at <= now:
        return []
    planned = visit.planned_at.isoformat()
    return [
        Reminder(
            rule=VISIT_UPCOMING,
            record_id=visit.id,
            user_id=visit.rep_id,
            occurrence=f"{planned}/{offset}",
            due_at=visit.planned_at - dt.timedelta(minutes=offset),
            title=f"Visit {visit.account_name}",
            body=f"planned in {offset} min",
            collapse_key=f"visit:{visit.id}",
            data={"entity": "visit"},
        )
        for offset in sorted(set(offsets))
        if offset >= 0
    ]


def follow_up_reminders(visit: VisitFacts, timezone: str, hour: int) -> list[Reminder]:
    """The follow-up a visit set, due at ``hour`` on its day (the rep's time zone), until a
    later check-in at the same account does it."""
    day = visit.next_follow_up_on
    if day is None or visit.status == "cancelled":
        return []
    if visit.later_check_in_at is not None and (
        visit.check_in_at is None or visit.later_check_in_at > visit.check_in_at
    ):
        return []
    return [
        Reminder(
            rule=FOLLOW_UP_DUE,
            record_id=visit.id,
            user_id=visit.rep_id,
            occurrence=day.isoformat(),
            due_at=_local_at(day, hour, timezone),
            title=f"Follow up {visit.account_name}",
            body=f"follow-up due {day.isoformat()}",
            collapse_key=f"follow_up:{visit.account_id}",
            data={"entity": "visit"},
        )
    ]


def quote_reminders(
    quote: QuoteFacts, days_before: int, timezone: str, hour: int, today: dt.date
) -> list[Reminder]:
    """A sent quote ``days_before`` days before its last valid day, while it is still valid."""
    if quote.status != "sent" or quote.valid_until is None or quote.valid_until < today:
        return []
    remind_on = quote.valid_until - dt.timedelta(days=days_before)
    return [
        Reminder(
            rule=QUOTE_EXPIRING,
            record_id=quote.id,
            user_id=quote.owner_id,
            occurrence=quote.valid_until.isoformat(),
            due_at=_local_at(remind_on, hour, timezone),
            title=f"Quote {quote.number} expires",
            body=f"valid until {quote.valid_until}",
            collapse_key=f"quote:{quote.id}",
            data={"entity": "quote"},
        )
    ]


def approval_reminders(visit: VisitFacts) -> list[Reminder]:
    """A make-up check-in waiting for a decision, to the rep's manager, as soon as it waits."""
    if visit.approval != "pending" or visit.manager_id is None or visit.check_in_at is None:
        return []
    return [
        Reminder(
            rule=APPROVAL_WAITING,
            record_id=visit.id,
            user_id=visit.manager_id,
            occurrence=visit.check_in_at.isoformat(),
            due_at=visit.check_in_at,
            title="Make-up check-in to approve",
            body=f"at {visit.account_name}",
            collapse_key=f"approval:{visit.id}",
            data={"entity": "visit"},
        )
    ]


def order_hold_reminders(order: OrderFacts) -> list[Reminder]:
    """An order on hold, to its owner, when it was held (one per hold: the occurrence is the
    transition); moot once another transition follows (released, cancelled, ...)."""
    if order.status != "on_hold" or order.to_status != "on_hold":
        return []
    reason = order.hold_reason or "a server check"
    return [
        Reminder(
            rule=ORDER_ON_HOLD,
            record_id=order.id,
            user_id=order.owner_id,
            occurrence=str(order.transition_id),
            due_at=order.moved_at,
            title=f"Order {order.number} on hold",
            body=f"held: {reason}",
            collapse_key=f"order:{order.id}",
            data={"entity": "order"},
        )
    ]


def order_release_reminders(order: OrderFacts) -> list[Reminder]:
    """An order the desk released from hold, to its owner (not when the owner did it); moot
    once another transition follows (held again, cancelled, ...)."""
    if order.action != "release" or order.to_status == "on_hold":
        return []  # still held for another reason: the hold rule reminds of that
    if order.status != order.to_status or order.actor_id == order.owner_id:
        return []
    return [
        Reminder(
            rule=ORDER_RELEASED,
            record_id=order.id,
            user_id=order.owner_id,
            occurrence=str(order.transition_id),
            due_at=order.moved_at,
            title=f"Order {order.number} released",
            body=f"now {order.status.replace('_', ' ')}",
            collapse_key=f"order:{order.id}",
            data={"entity": "order"},
        )
    ]


def instalment_reminders(instalment: InstalmentFacts, timezone: str, hour: int) -> list[Reminder]:
    """An open instalment of an active or completed contract, to the contract's rep, at
    ``hour`` of the day after its due date (the rep's time zone); moot once paid. The
    occurrence is the due date, so a rescheduled instalment is reminded again."""
    if (
        instalment.owner_id is None
        or instalment.status != "open"
        or instalment.outstanding <= 0
        or instalment.contract_status not in ("active", "completed")
    ):
        return []
    day = instalment.due_date + dt.timedelta(days=1)
    return [
        Reminder(
            rule=INSTALMENT_OVERDUE,
            record_id=instalment.id,
            user_id=instalment.owner_id,
            occurrence=instalment.due_date.isoformat(),
            due_at=_local_at(day, hour, timezone),
            title=f"Instalment overdue: {instalment.account_name}",
            body=(
                f"instalment {instalment.seq}: {instalment.outstanding:.2f} "
                f"{instalment.currency} due {instalment.due_date.isoformat()}"
            ),
            collapse_key=f"instalment:{instalment.id}",
            data={"entity": "instalment"},
        )
    ]


_APPROVAL_RULES = {  # entity -> (rule, what the title calls it)
    "quote": (DISCOUNT_APPROVAL_WAITING, "Quote"),
    "order": (DISCOUNT_APPROVAL_WAITING, "Order"),
    "expense": (EXPENSE_APPROVAL_WAITING, "Expense report"),
}


def approval_request_reminders(request: ApprovalRequestFacts) -> list[Reminder]:
    """A document waiting for a decision, to the requester's manager, as soon as it waits;
    moot once decided (or withdrawn)."""
    if not request.pending or request.manager_id is None:
        return []
    rule, what = _APPROVAL_RULES[request.entity]
    return [
        Reminder(
            rule=rule,
            record_id=request.id,
            user_id=request.manager_id,
            occurrence=request.occurrence,
            due_at=request.requested_at,
            title=f"{what} to approve",
            body=request.label,
            collapse_key=f"approval:{request.id}",
            data={"entity": request.entity},
        )
    ]


def vip_reminders(
    account: AccountFacts, rhythm_days: int, timezone: str, hour: int
) -> list[Reminder]:
    """A VIP account past its rhythm since its last visit (never visited: not reminded; the
    visit planner plans those)."""
    if account.value_tier != "vip" or rhythm_days <= 0 or account.last_visit_on is None:
        return []
    due = account.last_visit_on + dt.timedelta(days=rhythm_days + 1)
    return [
        Reminder(
            rule=VIP_NOT_VISITED,
            record_id=account.id,
            user_id=account.owner_id,
            occurrence=due.isoformat(),
            due_at=_local_at(due, hour, timezone),
            title=f"VIP {account.name} not visited",
            body=f"last visit {account.last_visit_on.isoformat()}",
            collapse_key=f"vip:{account.id}",
            data={"entity": "account"},
        )
    ]


def still_due(reminders: list[Reminder], occurrence: str) -> bool:
    """True when the record's current reminders still hold ``occurrence``."""
    return any(reminder.occurrence == occurrence for reminder in reminders)


def payload(reminder: Reminder) -> dict[str, Any]:
    """The data a push carries (strings only, as FCM wants them)."""
    return {"rule": reminder.rule, "record_id": str(reminder.record_id), **reminder.data}
