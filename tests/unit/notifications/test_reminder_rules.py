"""The reminder rules (rules/reminders.py) as pure functions of records and ``now``."""

from __future__ import annotations

import datetime as dt
import uuid

from rules import reminders as rr

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
REP, MANAGER, ACCOUNT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


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


def test_an_order_on_hold_reminds_its_owner_once_per_hold() -> None:
    held = rr.OrderFacts(
        id=uuid.uuid4(),
        owner_id=REP,
        number="o1",
        status="on_hold",
        hold_reason="credit_limit",
        version=4,
    )
    [reminder] = rr.order_hold_reminders(held, NOW)
    assert (reminder.occurrence, reminder.body) == ("v4", "held: credit_limit")
    released = rr.OrderFacts(
        id=held.id, owner_id=REP, number="o1", status="confirmed", hold_reason=None, version=5
    )
    assert rr.order_hold_reminders(released, NOW) == []


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
