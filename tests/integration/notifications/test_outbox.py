"""The outbox end to end on both backends: generated once, sent once through firebase-admin to
the FCM stand-in, retried with backoff, dead after N attempts, dead tokens pruned."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest
import sqlalchemy as sa

from server.db import Database
from server.notifications.models import PushToken
from server.settings import Settings
from tests import fcm_standin as fcm
from tests.notifications_tools import Harness, add_event, add_user

T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)  # 09:00 UTC: no quiet hours for UTC users


@pytest.fixture
def standin() -> Iterator[fcm.FcmStandIn]:
    with fcm.FcmStandIn() as server:
        yield server


@pytest.fixture
async def harness(
    db: Database, settings: Settings, standin: fcm.FcmStandIn
) -> AsyncIterator[Harness]:
    tuned = msgspec.structs.replace(
        settings, notify_max_attempts=3, notify_hourly_budget=0, notify_backoff_base_seconds=30
    )
    world = Harness(db, tuned, standin, T0)
    yield world
    await world.sender.close()


async def test_a_reminder_is_written_once_and_sent_once_when_due(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, [token] = await add_user(db)
    event = await add_event(db, rep, T0 + dt.timedelta(minutes=30), [15, 5], title="Call ACME")
    first = await harness.generator.generate()
    again = await harness.generator.generate()  # a second pass (or scheduler) adds nothing
    assert (first.found, first.queued, again.found, again.queued) == (2, 2, 2, 0)
    assert (await harness.dispatcher.drain()).claimed == 0  # not due yet
    harness.clock.advance(minutes=15)
    report = await harness.dispatcher.drain()
    assert (report.claimed, report.sent) == (1, 1)
    assert standin.bodies() == [
        {
            "message": {
                "token": token.token,
                "data": {
                    "rule": "event_upcoming",
                    "record_id": str(event),
                    "entity": "calendar_event",
                },
                "notification": {"title": "Call ACME", "body": "starts in 15 min"},
                "android": {"collapse_key": f"event:{event}", "priority": "high"},
                "apns": {"headers": {"apns-collapse-id": f"event:{event}"}},
            }
        }
    ]
    assert (await harness.dispatcher.drain()).claimed == 0  # sent: never again
    harness.clock.advance(minutes=10)
    await harness.dispatcher.drain()
    assert [m["notification"]["body"] for m in standin.delivered()] == [
        "starts in 15 min",
        "starts in 5 min",
    ]
    assert await harness.statuses() == [("event_upcoming", "sent")] * 2


async def test_transient_errors_retry_with_backoff_then_succeed(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, [token] = await add_user(db)
    await add_event(db, rep, T0 + dt.timedelta(minutes=60), [60])
    standin.script(token.token, fcm.UNAVAILABLE)
    await harness.generator.generate()
    report = await harness.dispatcher.drain()
    assert (report.sent, report.retried) == (0, 1)
    [row] = await harness.rows()
    assert (row.status, row.attempts, row.last_error) == ("queued", 1, "UnavailableError")
    # first retry: base 30 s with equal jitter, so between 15 and 30 s later
    assert T0 + dt.timedelta(seconds=15) <= row.due_at <= T0 + dt.timedelta(seconds=30)
    harness.clock.advance(seconds=14)
    assert (await harness.dispatcher.drain()).claimed == 0
    harness.clock.advance(seconds=16)
    assert (await harness.dispatcher.drain()).sent == 1
    assert len(standin.delivered()) == 1 and len(standin.bodies()) == 2


async def test_a_batch_of_retries_each_keeps_its_own_delay_attempts_and_error(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    """Rows going back to the queue are written in one statement: each keeps its own values."""
    users = [await add_user(db) for _ in range(3)]
    (_, [slow]), (_, [busy]), (_, [fine]) = users
    for rep, _ in users:
        await add_event(db, rep, T0 + dt.timedelta(minutes=60), [60])
    standin.script(slow.token, fcm.quota_exceeded(900))
    standin.script(busy.token, fcm.UNAVAILABLE)
    await harness.generator.generate()
    report = await harness.dispatcher.drain()
    assert (report.sent, report.retried) == (1, 2)
    rows = {row.user_id: row for row in await harness.rows()}
    by_user = {rep.id: token for rep, [token] in users}
    states = {
        by_user[user].token: (row.status, row.attempts, row.last_error, row.claimed_by)
        for user, row in rows.items()
    }
    assert states[fine.token] == ("sent", 1, "", None)
    assert states[busy.token] == ("queued", 1, "UnavailableError", None)
    assert states[slow.token][:2] == ("queued", 1) and states[slow.token][3] is None
    due = {by_user[user].token: row.due_at for user, row in rows.items()}
    assert due[slow.token] >= T0 + dt.timedelta(seconds=900)
    assert T0 + dt.timedelta(seconds=15) <= due[busy.token] <= T0 + dt.timedelta(seconds=30)


async def test_quota_exceeded_waits_at_least_retry_after(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, [token] = await add_user(db)
    await add_event(db, rep, T0 + dt.timedelta(hours=2), [120])
    standin.script(token.token, fcm.quota_exceeded(600))
    await harness.generator.generate()
    await harness.dispatcher.drain()
    [row] = await harness.rows()
    assert row.status == "queued"
    assert row.due_at >= T0 + dt.timedelta(seconds=600)
    harness.clock.advance(seconds=599)
    assert (await harness.dispatcher.drain()).claimed == 0


async def test_a_notification_is_dead_after_the_last_attempt(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, [token] = await add_user(db)
    await add_event(db, rep, T0 + dt.timedelta(hours=5), [300])
    standin.script(token.token, fcm.INTERNAL, fcm.INTERNAL, fcm.INTERNAL, fcm.INTERNAL)
    await harness.generator.generate()
    for _ in range(5):
        await harness.dispatcher.drain()
        harness.clock.advance(hours=1)
    [row] = await harness.rows()
    assert (row.status, row.attempts) == ("dead", 3)  # notify_max_attempts
    assert len(standin.bodies()) == 3 and standin.delivered() == []


async def test_unregistered_prunes_the_token_and_other_devices_still_get_it(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, [dead, alive] = await add_user(db, devices=2)
    lone, [lone_token] = await add_user(db)
    standin.script(dead.token, fcm.UNREGISTERED)
    standin.script(lone_token.token, fcm.UNREGISTERED)
    for user in (rep, lone):
        await add_event(db, user, T0 + dt.timedelta(minutes=10), [10])
    await harness.generator.generate()
    report = await harness.dispatcher.drain()
    assert (report.sent, report.failed, report.pruned_tokens) == (1, 1, 2)
    async with db.reading() as session:
        left = (await session.scalars(sa.select(PushToken.token))).all()
    assert left == [alive.token]
    assert sorted(s for _, s in await harness.statuses()) == ["failed", "sent"]
    assert [m["token"] for m in standin.delivered()] == [alive.token]


async def test_invalid_argument_fails_for_good(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, [token] = await add_user(db)
    standin.script(token.token, fcm.INVALID_ARGUMENT)
    await add_event(db, rep, T0 + dt.timedelta(minutes=10), [10])
    await harness.generator.generate()
    await harness.dispatcher.drain()
    harness.clock.advance(hours=1)
    assert (await harness.dispatcher.drain()).claimed == 0
    [row] = await harness.rows()
    assert (row.status, row.last_error) == ("failed", "invalid_argument")


async def test_a_retry_does_not_resend_to_the_device_that_took_it(
    harness: Harness, db: Database, standin: fcm.FcmStandIn
) -> None:
    rep, [ok, flaky] = await add_user(db, devices=2)
    standin.script(flaky.token, fcm.UNAVAILABLE)
    await add_event(db, rep, T0 + dt.timedelta(minutes=10), [10])
    await harness.generator.generate()
    await harness.dispatcher.drain()
    harness.clock.advance(minutes=5)
    await harness.dispatcher.drain()
    assert sorted(m["token"] for m in standin.delivered()) == sorted([ok.token, flaky.token])
    assert await harness.statuses() == [("event_upcoming", "sent")]
