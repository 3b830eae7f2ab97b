"""The reminder rules (rules/reminders.py) as pure functions of records and ``now``."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import msgspec

from rules import reminders as rr

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
REP, MANAGER, ACCOUNT, ORDER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def event(**overrides: object) -> rr.EventFacts:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "owner_id": REP,
        "title": "Call",
        "kind": "call",
        "status": "open",
        "starts_at": NOW + dt.timedelta(hours=2),
        "reminder_offsets": (15, 60, 60),
    }
    return rr.EventFacts(**{**values, **overrides})  # type: ignore[arg-type]


def visit(**overrides: object) -> rr.VisitFacts:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "rep_id": REP,
        "account_id": ACCOUNT,
        "account_name": "ACME",
        "status": "planned",
        "planned_at": NOW + dt.timedelta(hours=1),
        "manager_id": MANAGER,
    }
    return rr.VisitFacts(**{**values, **overrides})  # type: ignore[arg-type]


def test_an_event_has_one_reminder_per_distinct_offset_before_its_start() -> None:
    found = rr.event_reminders(event(), NOW)
    assert [(r.due_at, r.occurrence.rsplit("/", 1)[1]) for r in found] == [
        (NOW + dt.timedelta(minutes=105), "15"),
        (NOW + dt.timedelta(minutes=60), "60"),
    ]
    assert {r.collapse_key for r in found} == {f"event:{found[0].record_id}"}
    assert all(r.user_id == REP and r.rule == rr.EVENT_UPCOMING for r in found)


def test_an_event_done_cancelled_started_or_moved_has_no_or_other_reminders() -> None:
    assert rr.event_reminders(event(status="done"), NOW) == []
    assert rr.event_reminders(event(status="cancelled"), NOW) == []
    assert rr.event_reminders(event(starts_at=NOW), NOW) == []
    before = rr.event_reminders(event(), NOW)[0]
    moved = event(id=before.record_id, starts_at=NOW + dt.timedelta(hours=3))
    assert not rr.still_due(rr.event_reminders(moved, NOW), before.occurrence)
    assert rr.still_due(rr.event_reminders(event(id=before.record_id), NOW), before.occurrence)


def test_negative_offsets_are_ignored() -> None:
    assert rr.event_reminders(event(reminder_offsets=(-5,)), NOW) == []


def test_a_planned_visit_is_reminded_until_checked_in() -> None:
    planned = visit()
    [reminder] = rr.visit_reminders(planned, (30,), NOW)
    assert reminder.due_at == NOW + dt.timedelta(minutes=30)
    assert reminder.title == "Visit ACME"
    checked_in = visit(id=planned.id, status="checked_in", check_in_at=NOW)
    assert not rr.still_due(rr.visit_reminders(checked_in, (30,), NOW), reminder.occurrence)


def test_a_follow_up_is_due_at_the_hour_of_its_day_in_the_reps_zone() -> None:
    done_visit = visit(
        status="completed",
        check_in_at=NOW - dt.timedelta(days=2),
        next_follow_up_on=dt.date(2026, 6, 3),
    )
    [reminder] = rr.follow_up_reminders(done_visit, "Asia/Shanghai", 9)
    assert reminder.due_at == dt.datetime(2026, 6, 3, 1, 0, tzinfo=dt.UTC)  # 09:00 at UTC+8
    assert reminder.occurrence == "2026-06-03"
    assert reminder.collapse_key == f"follow_up:{ACCOUNT}"


def test_a_later_check_in_at_the_account_does_the_follow_up() -> None:
    base = {
        "status": "completed",
        "check_in_at": NOW - dt.timedelta(days=2),
        "next_follow_up_on": dt.date(2026, 6, 3),
    }
    assert rr.follow_up_reminders(visit(**base, later_check_in_at=NOW), "UTC", 9) == []
    earlier = NOW - dt.timedelta(days=5)
    assert len(rr.follow_up_reminders(visit(**base, later_check_in_at=earlier), "UTC", 9)) == 1
    assert (
        rr.follow_up_reminders(
            visit(status="cancelled", next_follow_up_on=dt.date(2026, 6, 3)), "UTC", 9
        )
        == []
    )


def test_a_sent_quote_is_reminded_days_before_it_expires() -> None:
    quote = rr.QuoteFacts(
        id=uuid.uuid4(), owner_id=REP, number="Q-1", status="sent", valid_until=dt.date(2026, 6, 10)
    )
    [reminder] = rr.quote_reminders(quote, 2, "UTC", 9, NOW.date())
    assert reminder.due_at == dt.datetime(2026, 6, 8, 9, 0, tzinfo=dt.UTC)
    for status in ("draft", "accepted", "expired"):
        moot = rr.QuoteFacts(
            id=quote.id, owner_id=REP, number="Q-1", status=status, valid_until=quote.valid_until
        )
        assert rr.quote_reminders(moot, 2, "UTC", 9, NOW.date()) == []
    assert rr.quote_reminders(quote, 2, "UTC", 9, dt.date(2026, 6, 11)) == []  # past


def test_a_make_up_check_in_waiting_reminds_the_manager_once_per_check_in() -> None:
    waiting = visit(status="checked_in", approval="pending", check_in_at=NOW)
    [reminder] = rr.approval_reminders(waiting)
    assert (reminder.user_id, reminder.due_at) == (MANAGER, NOW)
    assert rr.approval_reminders(visit(approval="approved", check_in_at=NOW)) == []
    assert rr.approval_reminders(visit(approval="pending", check_in_at=NOW, manager_id=None)) == []


def order(**overrides: object) -> rr.OrderFacts:
    values: dict[str, object] = {
        "id": ORDER,
        "owner_id": REP,
        "number": "o1",
        "status": "on_hold",
        "hold_reason": "credit_limit",
        "transition_id": uuid.uuid4(),
        "action": "submit",
        "to_status": "on_hold",
        "moved_at": NOW,
        "actor_id": REP,
    }
    return rr.OrderFacts(**{**values, **overrides})  # type: ignore[arg-type]


def test_an_order_on_hold_reminds_its_owner_once_per_hold() -> None:
    held = order()
    [reminder] = rr.order_hold_reminders(held)
    assert (reminder.occurrence, reminder.body) == (str(held.transition_id), "held: credit_limit")
    assert (reminder.user_id, reminder.due_at, reminder.collapse_key) == (
        REP,
        NOW,
        f"order:{ORDER}",
    )
    assert rr.order_release_reminders(held) == []
    released = order(status="confirmed", action="release", to_status="confirmed", actor_id=MANAGER)
    assert not rr.still_due(rr.order_hold_reminders(released), reminder.occurrence)
    held_again = order()  # a later hold is another occurrence
    assert not rr.still_due(rr.order_hold_reminders(held_again), reminder.occurrence)


def test_a_release_by_the_desk_reminds_the_owner_until_the_order_moves_on() -> None:
    released = order(
        status="confirmed",
        hold_reason=None,
        action="release",
        to_status="confirmed",
        actor_id=MANAGER,
    )
    [reminder] = rr.order_release_reminders(released)
    assert (reminder.rule, reminder.user_id, reminder.body) == (
        rr.ORDER_RELEASED,
        REP,
        "now confirmed",
    )
    assert reminder.occurrence == str(released.transition_id)
    # fulfilled since: a later transition, the release is no longer the news
    fulfilled = order(status="fulfilled", action="fulfil", to_status="fulfilled", actor_id=MANAGER)
    assert not rr.still_due(rr.order_release_reminders(fulfilled), reminder.occurrence)
    # released of one reason and still held for another: the hold rule reminds of that
    partly = order(action="release", to_status="on_hold", actor_id=MANAGER)
    assert rr.order_release_reminders(partly) == []
    assert len(rr.order_hold_reminders(partly)) == 1
    by_the_owner = msgspec.structs.replace(released, actor_id=REP)
    assert rr.order_release_reminders(by_the_owner) == []


def instalment(**overrides: object) -> rr.InstalmentFacts:
    values: dict[str, object] = {
        "id": ORDER,
        "owner_id": REP,
        "account_name": "ACME",
        "contract_status": "active",
        "seq": 2,
        "due_date": dt.date(2026, 6, 1),
        "outstanding": decimal.Decimal("1200.5000"),
        "currency": "CNY",
        "status": "open",
    }
    return rr.InstalmentFacts(**{**values, **overrides})  # type: ignore[arg-type]


def test_an_unpaid_instalment_is_reminded_the_day_after_it_was_due() -> None:
    [reminder] = rr.instalment_reminders(instalment(), "Asia/Shanghai", 9)
    assert reminder.due_at == dt.datetime(2026, 6, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 at UTC+8
    assert (reminder.rule, reminder.user_id, reminder.occurrence) == (
        rr.INSTALMENT_OVERDUE,
        REP,
        "2026-06-01",
    )
    assert reminder.body == "instalment 2: 1200.50 CNY due 2026-06-01"
    assert reminder.collapse_key == f"instalment:{ORDER}"
    paid = instalment(status="paid", outstanding=decimal.Decimal("0"))
    assert not rr.still_due(rr.instalment_reminders(paid, "UTC", 9), reminder.occurrence)
    moved = instalment(due_date=dt.date(2026, 6, 8))  # rescheduled: a new occurrence
    assert not rr.still_due(rr.instalment_reminders(moved, "UTC", 9), reminder.occurrence)


def test_instalments_of_drafts_terminated_contracts_or_no_rep_are_not_reminded() -> None:
    assert rr.instalment_reminders(instalment(contract_status="draft"), "UTC", 9) == []
    assert rr.instalment_reminders(instalment(contract_status="terminated"), "UTC", 9) == []
    assert rr.instalment_reminders(instalment(owner_id=None), "UTC", 9) == []
    assert rr.instalment_reminders(instalment(outstanding=decimal.Decimal(0)), "UTC", 9) == []
    assert len(rr.instalment_reminders(instalment(contract_status="completed"), "UTC", 9)) == 1


def request(**overrides: object) -> rr.ApprovalRequestFacts:
    values: dict[str, object] = {
        "id": ORDER,
        "entity": "quote",
        "requester_id": REP,
        "manager_id": MANAGER,
        "label": "from Rep",
        "pending": True,
        "requested_at": NOW,
        "occurrence": "fingerprint-1",
    }
    return rr.ApprovalRequestFacts(**{**values, **overrides})  # type: ignore[arg-type]


def test_a_document_waiting_for_approval_reminds_the_requesters_manager() -> None:
    for entity, rule, title in (
        ("quote", rr.DISCOUNT_APPROVAL_WAITING, "Quote to approve"),
        ("order", rr.DISCOUNT_APPROVAL_WAITING, "Order to approve"),
        ("expense", rr.EXPENSE_APPROVAL_WAITING, "Expense report to approve"),
    ):
        [reminder] = rr.approval_request_reminders(request(entity=entity))
        assert (reminder.rule, reminder.user_id, reminder.title) == (rule, MANAGER, title)
        assert (reminder.due_at, reminder.occurrence) == (NOW, "fingerprint-1")
        assert reminder.data == {"entity": entity}
    decided = request(pending=False)
    assert not rr.still_due(rr.approval_request_reminders(decided), "fingerprint-1")
    asked_again = request(occurrence="fingerprint-2")  # refused, changed, asked again
    assert not rr.still_due(rr.approval_request_reminders(asked_again), "fingerprint-1")
    assert rr.approval_request_reminders(request(manager_id=None)) == []


def test_a_vip_account_past_its_rhythm_is_reminded() -> None:
    account = rr.AccountFacts(
        id=uuid.uuid4(),
        owner_id=REP,
        name="Big",
        value_tier="vip",
        last_visit_on=dt.date(2026, 5, 20),
    )
    [reminder] = rr.vip_reminders(account, 7, "UTC", 9)
    assert reminder.due_at == dt.datetime(2026, 5, 28, 9, 0, tzinfo=dt.UTC)
    assert rr.vip_reminders(account, 0, "UTC", 9) == []
    regular = rr.AccountFacts(
        id=account.id,
        owner_id=REP,
        name="Big",
        value_tier="key",
        last_visit_on=dt.date(2026, 5, 20),
    )
    assert rr.vip_reminders(regular, 7, "UTC", 9) == []


def test_every_rule_has_a_description_and_the_payload_is_strings() -> None:
    assert all(rr.RULES.values())
    [reminder] = rr.visit_reminders(visit(), (30,), NOW)
    assert all(isinstance(v, str) for v in rr.payload(reminder).values())
