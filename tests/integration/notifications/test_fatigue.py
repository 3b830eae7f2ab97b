"""Fatigue control and suppression at dispatch, on both backends: quiet hours in the user's
time zone, mutes, the hourly budget folding into a digest, moot reminders suppressed,
concurrent dispatchers sending each notification once, coalesced silent sync pushes."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest
import sqlalchemy as sa

from protocol.ids import uuid7
from server.db import Database
from server.notifications.models import Notification
from server.notifications.preferences import PreferenceService
from server.notifications.schemas import PreferencesPatch
from server.notifications.sync_push import request_sync
from server.settings import Settings
from server.sfa.calendar.models import CalendarEvent
from server.sfa.visits.models import Visit
from server.sync.registry import Principal
from tests import fcm_standin as fcm
from tests.notifications_tools import Harness, add_event, add_user
from tests.synctools import insert_account

T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def standin() -> Iterator[fcm.FcmStandIn]:
    with fcm.FcmStandIn() as server:
        yield server


@pytest.fixture
def tuned(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings, notify_hourly_budget=2, notify_visit_offsets_minutes="30"
    )


@pytest.fixture
async def harness(db: Database, tuned: Settings, standin: fcm.FcmStandIn) -> AsyncIterator[Harness]:
    world = Harness(db, tuned, standin, T0)
    yield world
    await world.sender.close()


async def test_quiet_hours_hold_a_reminder_until_they_end_in_the_users_zone(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, _ = await add_user(db, timezone="Asia/Shanghai")  # UTC+8, quiet 22:00-07:00
    harness.clock.at = dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC)  # 23:00 in Shanghai
    start = dt.datetime(2026, 6, 2, 0, 0, tzinfo=dt.UTC)  # 08:00 in Shanghai
    await add_event(db, rep, start, [9 * 60])  # due at 23:00 local
    await harness.generator.generate()
    report = await harness.dispatcher.drain()
    assert (report.held, report.sent) == (1, 0)
    [row] = await harness.rows()
    assert row.due_at == dt.datetime(2026, 6, 1, 23, 0, tzinfo=dt.UTC)  # 07:00 local
    harness.clock.at = dt.datetime(2026, 6, 1, 22, 59, tzinfo=dt.UTC)
    assert (await harness.dispatcher.drain()).claimed == 0
    harness.clock.at = dt.datetime(2026, 6, 1, 23, 0, tzinfo=dt.UTC)
    assert (await harness.dispatcher.drain()).sent == 1
    assert len(standin.delivered()) == 1


async def test_a_muted_rule_is_recorded_muted_and_not_sent(
    harness: Harness, db: Database, tuned: Settings, standin: fcm.FcmStandIn
) -> None:
    rep, _ = await add_user(db)
    await PreferenceService(db, tuned).update(
        Principal(user_id=rep.id, role="rep"), PreferencesPatch(muted_rules=["event_upcoming"])
    )
    await add_event(db, rep, T0 + dt.timedelta(minutes=5), [5])
    await harness.generator.generate()
    assert (await harness.dispatcher.drain()).muted == 1
    assert await harness.statuses() == [("event_upcoming", "muted")]
    assert standin.bodies() == []


async def test_over_the_hourly_budget_reminders_fold_into_one_digest(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, [token] = await add_user(db)
    for minute in range(5):
        await add_event(
            db, rep, T0 + dt.timedelta(minutes=30 + minute), [30], title=f"Call {minute}"
        )  # due at 09:00, 09:01, ... 09:04
    await harness.generator.generate()
    harness.clock.advance(minutes=5)
    report = await harness.dispatcher.drain()
    assert (report.sent, report.folded) == (2, 3)  # notify_hourly_budget = 2
    digest = [r for r in await harness.rows() if r.rule == "digest"]
    assert [(r.status, r.due_at) for r in digest] == [("queued", T0 + dt.timedelta(hours=1))]
    harness.clock.at = T0 + dt.timedelta(hours=1)
    assert (await harness.dispatcher.drain()).sent == 1
    titles = [m["notification"]["title"] for m in standin.delivered()]
    # the earliest two went out (concurrently: in either order), the digest an hour later
    assert sorted(titles[:2]) == ["Call 0", "Call 1"] and titles[2:] == ["3 reminders"]
    assert standin.delivered()[-1]["notification"]["body"] == "Call 2; Call 3; Call 4"
    assert standin.delivered()[-1]["android"]["collapse_key"] == "digest"
    assert sorted(s for _, s in await harness.statuses()) == (["folded"] * 3 + ["sent"] * 3)
    assert {m["token"] for m in standin.delivered()} == {token.token}


async def test_a_reminder_made_moot_after_it_was_queued_is_suppressed(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, _ = await add_user(db)
    account = await insert_account(db, owner_id=rep.id)
    visit_id, gone_event = uuid7(), await add_event(db, rep, T0 + dt.timedelta(minutes=20), [20])
    async with db.transaction() as session:
        session.add(
            Visit(
                id=visit_id,
                account_id=account,
                rep_id=rep.id,
                planned_at=T0 + dt.timedelta(minutes=30),
            )
        )
    await harness.generator.generate()
    assert sorted(r for r, _ in await harness.statuses()) == ["event_upcoming", "visit_upcoming"]
    # what a sync brings in meanwhile: the visit checked in early, the event deleted
    async with db.transaction() as session:
        await session.execute(
            sa.update(Visit).where(Visit.id == visit_id).values(status="checked_in", check_in_at=T0)
        )
        await session.execute(sa.delete(CalendarEvent).where(CalendarEvent.id == gone_event))
    report = await harness.dispatcher.drain()
    assert (report.suppressed, report.sent) == (2, 0)
    assert standin.bodies() == []


async def test_a_follow_up_done_by_a_later_visit_is_suppressed(
    harness: Harness, db: Database, tuned: Settings, standin: fcm.FcmStandIn
) -> None:
    rep, _ = await add_user(db)
    account = await insert_account(db, owner_id=rep.id)
    day = T0.date()
    async with db.transaction() as session:
        for follow_up in (day, day):
            session.add(
                Visit(
                    id=uuid7(),
                    account_id=account,
                    rep_id=rep.id,
                    status="completed",
                    planned_at=T0 - dt.timedelta(days=3),
                    check_in_at=T0 - dt.timedelta(days=3),
                    next_follow_up_on=follow_up,
                )
            )
    await harness.generator.generate()  # follow-ups are due at 09:00 (notify_follow_up_hour)
    assert [r for r, _ in await harness.statuses()] == ["follow_up_due"] * 2
    async with db.transaction() as session:  # the rep went back: one later check-in
        session.add(
            Visit(
                id=uuid7(),
                account_id=account,
                rep_id=rep.id,
                status="checked_in",
                planned_at=T0 - dt.timedelta(hours=1),
                check_in_at=T0 - dt.timedelta(hours=1),
            )
        )
    report = await harness.dispatcher.drain()
    assert report.suppressed == 2
    assert standin.bodies() == []


async def test_two_dispatchers_at_once_send_each_notification_once(
    db: Database, tuned: Settings, standin: fcm.FcmStandIn
) -> None:
    settings = msgspec.structs.replace(tuned, notify_hourly_budget=0, notify_claim_batch=25)
    first, second = (Harness(db, settings, standin, T0) for _ in range(2))
    second.dispatcher.worker = "other-worker"
    users = [await add_user(db) for _ in range(20)]
    for user, _ in users:
        for minute in range(6):
            await add_event(db, user, T0 + dt.timedelta(minutes=20 + minute), [15])
    await first.generator.generate()
    first.clock.advance(minutes=15)
    second.clock.advance(minutes=15)
    reports = await asyncio.gather(first.dispatcher.drain(), second.dispatcher.drain())
    await first.sender.close()
    await second.sender.close()
    assert sum(r.sent for r in reports) == 120
    keys = [(m["token"], m["data"]["record_id"]) for m in standin.delivered()]
    assert len(keys) == len(set(keys)) == 120
    async with db.reading() as session:
        left = await session.scalar(sa.select(sa.func.count()).where(Notification.status != "sent"))
    assert left == 0


async def test_sync_pushes_coalesce_to_one_per_device_per_interval(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, [phone, tablet] = await add_user(db, devices=2)
    for second in range(0, 60, 10):  # a burst of changes within one minute
        async with db.transaction() as session:
            await request_sync(session, [rep.id], now=T0 + dt.timedelta(seconds=second))
    async with db.transaction() as session:
        await request_sync(session, [rep.id], now=T0 + dt.timedelta(seconds=61))
    harness.clock.at = T0 + dt.timedelta(seconds=59)
    assert (await harness.dispatcher.drain()).claimed == 0  # trailing edge of the minute
    harness.clock.at = T0 + dt.timedelta(seconds=60)
    assert (await harness.dispatcher.drain()).sent == 2  # one per device
    harness.clock.at = T0 + dt.timedelta(seconds=120)
    assert (await harness.dispatcher.drain()).sent == 2  # the next minute's change
    bodies = standin.delivered()
    assert sorted(m["token"] for m in bodies) == sorted([phone.token, tablet.token] * 2)
    assert all("notification" not in m and m["data"] == {"action": "sync"} for m in bodies)


async def test_a_make_up_decision_queues_a_silent_sync_for_the_reps_devices(
    db: Database, tuned: Settings
) -> None:
    from server.sfa.visits.service import Decision, VisitService
    from tests.synctools import writer

    rep, [phone] = await add_user(db)
    admin, _ = await add_user(db, role="admin", devices=0)  # type: ignore[arg-type]
    account = await insert_account(db, owner_id=rep.id)
    visit_id = uuid7()
    async with db.transaction() as session:
        session.add(
            Visit(
                id=visit_id,
                account_id=account,
                rep_id=rep.id,
                status="checked_in",
                planned_at=T0,
                check_in_at=T0,
                approval="pending",
            )
        )
    service = VisitService(db, writer(), Principal(user_id=admin.id, role="admin"), tuned)
    await service.decide(visit_id, True, Decision(note="ok"))
    async with db.reading() as session:
        rows = (
            await session.execute(
                sa.select(Notification.rule, Notification.device_id, Notification.silent)
            )
        ).all()
    assert rows == [("sync_now", phone.device_id, True)]


async def test_a_deactivated_users_reminders_are_suppressed(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    from server.auth.models import User

    rep, _ = await add_user(db)
    await add_event(db, rep, T0 + dt.timedelta(minutes=5), [5])
    await harness.generator.generate()
    async with db.transaction() as session:
        await session.execute(sa.update(User).where(User.id == rep.id).values(active=False))
    assert (await harness.dispatcher.drain()).suppressed == 1
    assert standin.bodies() == []
