"""Each reminder rule over its records, on both backends with a frozen clock: written once
when due, sent to the right user through the FCM stand-in, and suppressed at dispatch when its
cause went away after it was queued (the instalment paid, the order released, the approval
decided)."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from protocol.ids import uuid7
from server.db import Database
from server.notifications.models import Notification
from server.settings import Settings
from server.sfa.contracts.models import Contract, Instalment
from server.sfa.expenses.models import ExpenseReport
from server.sfa.orders.models import Order
from server.sfa.quotes.models import Quote
from server.sfa.visits.models import Visit
from tests import fcm_standin as fcm
from tests.notifications_tools import Harness, add_user
from tests.synctools import insert_account

T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
D = decimal.Decimal


@pytest.fixture
def standin() -> Iterator[fcm.FcmStandIn]:
    with fcm.FcmStandIn() as server:
        yield server


@pytest.fixture
def tuned(settings: Settings) -> Settings:
    # no quiet hours: the desk test runs at the real time of day
    return msgspec.structs.replace(
        settings, notify_quiet_start_minute=0, notify_quiet_end_minute=0, notify_hourly_budget=0
    )


@pytest.fixture
async def harness(db: Database, tuned: Settings, standin: fcm.FcmStandIn) -> AsyncIterator[Harness]:
    world = Harness(db, tuned, standin, T0)
    yield world
    await world.sender.close()


async def queued(db: Database) -> list[tuple[str, uuid.UUID, uuid.UUID, str]]:
    """(rule, record, user, status) of every outbox row, by rule and record."""
    async with db.reading() as session:
        rows = await session.execute(
            sa.select(
                Notification.rule, Notification.record_id, Notification.user_id, Notification.status
            ).order_by(Notification.rule, Notification.record_id)
        )
        return [(rule, record, user, str(status)) for rule, record, user, status in rows.all()]


async def add_contract(
    db: Database, owner: uuid.UUID, account: uuid.UUID, *due: tuple[dt.date, str]
) -> list[uuid.UUID]:
    """An active contract of ``owner`` with one open instalment per (due date, amount)."""
    contract_id, ids = uuid7(), []
    async with db.transaction() as session:
        session.add(
            Contract(
                id=contract_id,
                account_id=account,
                owner_id=owner,
                status="active",
                value=D("1000"),
                currency="CNY",
                start_date=T0.date() - dt.timedelta(days=60),
                end_date=T0.date() + dt.timedelta(days=300),
            )
        )
        await session.flush()
        for seq, (day, amount) in enumerate(due, start=1):
            ids.append(uuid7())
            session.add(
                Instalment(
                    id=ids[-1],
                    contract_id=contract_id,
                    account_id=account,
                    seq=seq,
                    due_date=day,
                    amount=D(amount),
                    outstanding=D(amount),
                    currency="CNY",
                )
            )
    return ids


async def test_an_overdue_instalment_is_reminded_once_and_suppressed_when_paid(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, [token] = await add_user(db)
    account = await insert_account(db, owner_id=rep.id, name="ACME")
    paid_later, unpaid, not_due = await add_contract(
        db,
        rep.id,
        account,
        (T0.date() - dt.timedelta(days=1), "300"),
        (T0.date() - dt.timedelta(days=1), "200"),
        (T0.date(), "100"),  # due today: overdue tomorrow
    )
    assert (await harness.generator.generate()).queued == 2
    assert (await harness.generator.generate()).queued == 0  # the key: written once
    assert await queued(db) == sorted(
        [
            ("instalment_overdue", paid_later, rep.id, "queued"),
            ("instalment_overdue", unpaid, rep.id, "queued"),
        ]
    )
    async with db.transaction() as session:  # a payment settles the first one meanwhile
        await session.execute(
            sa.update(Instalment)
            .where(Instalment.id == paid_later)
            .values(status="paid", paid=D("300"), outstanding=D("0"))
        )
    report = await harness.dispatcher.drain()
    assert (report.sent, report.suppressed) == (1, 1)
    [message] = standin.delivered()
    assert message["token"] == token.token
    assert message["notification"]["title"] == "Instalment overdue: ACME"
    assert message["notification"]["body"] == "instalment 2: 200.00 CNY due 2026-05-31"
    assert message["data"]["entity"] == "instalment"
    assert message["android"]["collapse_key"] == f"instalment:{unpaid}"
    harness.clock.advance(days=1)
    await harness.generator.generate()
    rows = {record: status for _, record, _, status in await queued(db)}
    assert rows == {paid_later: "suppressed", unpaid: "sent", not_due: "queued"}


async def test_a_terminated_contracts_instalments_are_not_reminded(
    harness: Harness, db: Database
) -> None:
    rep, _ = await add_user(db)
    account = await insert_account(db, owner_id=rep.id)
    [overdue] = await add_contract(db, rep.id, account, (T0.date() - dt.timedelta(days=3), "50"))
    async with db.transaction() as session:
        await session.execute(sa.update(Contract).values(status="terminated"))
    assert (await harness.generator.generate()).found == 0
    assert overdue not in {record for _, record, _, _ in await queued(db)}


async def test_approvals_waiting_remind_the_manager_until_decided(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    manager, [manager_phone] = await add_user(db, role="manager")  # type: ignore[arg-type]
    rep, [rep_phone] = await add_user(db, manager_id=manager.id)
    account = await insert_account(db, owner_id=rep.id)
    quote_id, order_id, expense_id, draft_id = uuid7(), uuid7(), uuid7(), uuid7()
    asked = T0 - dt.timedelta(minutes=5)
    async with db.transaction() as session:
        session.add_all(
            [
                Quote(
                    id=quote_id,
                    account_id=account,
                    owner_id=rep.id,
                    number="Q-7",
                    status="pending_approval",
                    approval_fingerprint="f-quote",
                    updated_at=asked,
                ),
                Order(
                    id=order_id,
                    account_id=account,
                    owner_id=rep.id,
                    status="pending_approval",
                    approval_fingerprint="f-order",
                    updated_at=asked,
                ),
                ExpenseReport(
                    id=expense_id, owner_id=rep.id, status="submitted", submitted_at=asked
                ),
                ExpenseReport(id=draft_id, owner_id=rep.id, status="draft"),
            ]
        )
    assert (await harness.generator.generate()).queued == 3
    assert await queued(db) == sorted(
        [
            ("discount_approval_waiting", quote_id, manager.id, "queued"),
            ("discount_approval_waiting", order_id, manager.id, "queued"),
            ("expense_approval_waiting", expense_id, manager.id, "queued"),
        ]
    )
    async with db.transaction() as session:  # the quote and the report decided meanwhile
        await session.execute(sa.update(Quote).where(Quote.id == quote_id).values(status="sent"))
        await session.execute(
            sa.update(ExpenseReport)
            .where(ExpenseReport.id == expense_id)
            .values(status="approved", decided_by=manager.id, decided_at=T0)
        )
    report = await harness.dispatcher.drain()
    assert (report.sent, report.suppressed) == (1, 2)
    [message] = standin.delivered()
    assert message["token"] == manager_phone.token != rep_phone.token
    assert message["notification"]["title"] == "Order to approve"
    assert message["data"] == {
        "rule": "discount_approval_waiting",
        "record_id": str(order_id),
        "entity": "order",
    }


async def test_a_refused_expense_report_submitted_again_is_a_new_reminder(
    harness: Harness, db: Database
) -> None:
    manager, _ = await add_user(db, role="manager")  # type: ignore[arg-type]
    rep, _ = await add_user(db, manager_id=manager.id)
    report_id = uuid7()
    async with db.transaction() as session:
        session.add(
            ExpenseReport(id=report_id, owner_id=rep.id, status="submitted", submitted_at=T0)
        )
    await harness.generator.generate()
    await harness.dispatcher.drain()
    async with db.transaction() as session:
        again = T0 + dt.timedelta(minutes=30)
        await session.execute(
            sa.update(ExpenseReport)
            .where(ExpenseReport.id == report_id)
            .values(status="submitted", submitted_at=again)
        )
    harness.clock.advance(minutes=30)
    assert (await harness.generator.generate()).queued == 1
    assert [status for *_, status in await queued(db)] == ["sent", "queued"]


async def test_quote_expiring_and_vip_not_visited_reach_their_owner(
    harness: Harness, db: Database, tuned: Settings, standin: fcm.FcmStandIn
) -> None:
    rep, [token] = await add_user(db)
    plain = await insert_account(db, owner_id=rep.id, name="Plain")
    vip = await insert_account(db, owner_id=rep.id, name="Big", value_tier="vip")
    seen = await insert_account(db, owner_id=rep.id, name="Seen", value_tier="vip")
    quote_id = uuid7()
    last = T0 - dt.timedelta(days=tuned.visit_rhythm_vip_days + 1, hours=3)
    async with db.transaction() as session:
        session.add(
            Quote(
                id=quote_id,
                account_id=plain,
                owner_id=rep.id,
                number="Q-1",
                status="sent",
                valid_until=T0.date() + dt.timedelta(days=tuned.notify_quote_days_before),
            )
        )
        for account, when in ((vip, last), (seen, T0 - dt.timedelta(days=1))):
            session.add(
                Visit(
                    id=uuid7(),
                    account_id=account,
                    rep_id=rep.id,
                    status="completed",
                    planned_at=when,
                    check_in_at=when,
                )
            )
    await harness.generator.generate()
    assert [(rule, record) for rule, record, _, _ in await queued(db)] == [
        ("quote_expiring", quote_id),
        ("vip_not_visited", vip),
    ]
    assert (await harness.dispatcher.drain()).sent == 2
    assert sorted(m["notification"]["title"] for m in standin.delivered()) == [
        "Quote Q-1 expires",
        "VIP Big not visited",
    ]
    assert {m["token"] for m in standin.delivered()} == {token.token}


async def test_a_desk_release_suppresses_the_hold_reminds_the_rep_and_syncs_their_phone(
    client: Any, db: Database, tuned: Settings, standin: fcm.FcmStandIn
) -> None:
    from server.db import utcnow
    from server.notifications.models import PushToken
    from tests.integration.sfa.order_desk_tools import make_desk

    desk = await make_desk(client, db, tuned, stock="10")
    now = utcnow()
    async with db.transaction() as session:
        session.add(
            PushToken(
                id=uuid7(),
                user_id=desk.rep.id,
                device_id=desk.phone.device_id,
                token="tok-rep-phone",
                platform="android",
                created_at=now,
                updated_at=now,
            )
        )
    held = await desk.submit(await desk.account(arrears=D("50")), "4")
    assert held["status"] == "on_hold"
    harness = Harness(db, tuned, standin, utcnow())
    try:
        await harness.generator.generate()
        assert [(r, s) for r, _, _, s in await queued(db)] == [("order_on_hold", "queued")]
        released = await desk.act(held, "release", {"note": "paid"})
        assert released.json()["status"] == "confirmed", released.text
        async with db.reading() as session:
            silent = (
                await session.execute(
                    sa.select(Notification.device_id).where(Notification.rule == "sync_now")
                )
            ).all()
        assert silent == [(desk.phone.device_id,)]  # the rep's phone, one silent push
        harness.clock.at = utcnow() + dt.timedelta(seconds=61)  # past the coalescing minute
        await harness.generator.generate()
        report = await harness.dispatcher.drain()
        assert (report.sent, report.suppressed) == (2, 1)
        statuses = {rule: status for rule, _, _, status in await queued(db)}
        assert statuses == {
            "order_on_hold": "suppressed",
            "order_released": "sent",
            "sync_now": "sent",
        }
        visible = [m for m in standin.delivered() if "notification" in m]
        assert [m["notification"]["title"] for m in visible] == [f"Order {held['id'][:8]} released"]
        assert [m["data"] for m in standin.delivered() if "notification" not in m] == [
            {"action": "sync"}
        ]
    finally:
        await harness.sender.close()
