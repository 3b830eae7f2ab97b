"""Helpers of the notification tests: the FCM sender pointed at the stand-in, users, tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from server.auth.models import Device, Role, User
from server.db import Database, new_id
from server.notifications.models import PushToken
from server.notifications.senders import FcmSender
from server.settings import Settings
from tests.fcm_standin import FcmStandIn

PROJECT = "outpost-test"


def fcm_sender(standin: FcmStandIn | str) -> FcmSender:
    """The real FcmSender (firebase-admin, anonymous credentials) sending to the stand-in (or
    to a URL): the one place the tests point firebase-admin's messaging URL at it."""
    url = standin if isinstance(standin, str) else standin.url
    return FcmSender.from_settings(Settings(fcm_endpoint=url, fcm_project_id=PROJECT))


def fcm_env(standin: FcmStandIn) -> dict[str, str]:
    """The same configuration for a subprocess (``outpost scheduler``)."""
    return {"OUTPOST_FCM_ENDPOINT": standin.url, "OUTPOST_FCM_PROJECT_ID": PROJECT}


async def add_user(
    db: Database,
    *,
    role: Role = Role.REP,
    timezone: str = "UTC",
    manager_id: uuid.UUID | None = None,
    devices: int = 1,
) -> tuple[User, list[PushToken]]:
    """A user with ``devices`` devices, each with a push token ``tok-<device id>``."""
    async with db.transaction() as session:
        user = User(
            id=new_id(),
            email=f"{uuid.uuid4().hex[:10]}@example.com",
            name="N",
            role=role,
            password_hash="x",
            timezone=timezone,
            manager_id=manager_id,
        )
        session.add(user)
        await session.flush()
        tokens = []
        for _ in range(devices):
            device = Device(id=new_id(), user_id=user.id, name="phone")
            session.add(device)
            await session.flush()
            token = PushToken(
                id=new_id(),
                user_id=user.id,
                device_id=device.id,
                token=f"tok-{device.id}",
                platform="android",
                created_at=dt.datetime.now(dt.UTC),
                updated_at=dt.datetime.now(dt.UTC),
            )
            session.add(token)
            tokens.append(token)
        await session.flush()
        return user, tokens


async def add_event(
    db: Database, owner: User, starts_at: dt.datetime, offsets: list[int], title: str = "Call"
) -> uuid.UUID:
    """An open calendar event of ``owner`` (a row, outside the change log)."""
    from server.sfa.calendar.models import CalendarEvent

    async with db.transaction() as session:
        event = CalendarEvent(
            id=new_id(),
            owner_id=owner.id,
            title=title,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=1),
            reminder_offsets=offsets,
        )
        session.add(event)
    return event.id


class Harness:
    """The generator and dispatcher of one test on a frozen clock, sending to the stand-in."""

    def __init__(
        self, db: Database, settings: Settings, standin: FcmStandIn, at: dt.datetime
    ) -> None:
        import random

        from server.notifications.clock import FixedClock
        from server.notifications.dispatch import Dispatcher
        from server.notifications.reminders import ReminderGenerator
        from server.notifications.sources import build_sources

        self.db, self.settings = db, settings
        self.clock = FixedClock(at)
        self.sender = fcm_sender(standin)
        sources = build_sources(settings)
        self.generator = ReminderGenerator(db, settings, self.clock, sources)
        self.dispatcher = Dispatcher(
            db, self.sender, settings, self.clock, sources, "test-worker", random.Random(7)
        )

    async def statuses(self) -> list[tuple[str, str]]:
        """(rule, status) of every outbox row, by due time."""
        import sqlalchemy as sa

        from server.notifications.models import Notification

        async with self.db.reading() as session:
            rows = await session.execute(
                sa.select(Notification.rule, Notification.status).order_by(
                    Notification.due_at, Notification.id
                )
            )
            return [(rule, str(status)) for rule, status in rows.all()]

    async def rows(self) -> list[Any]:
        import sqlalchemy as sa

        from server.notifications.models import Notification

        async with self.db.reading() as session:
            return list(
                (
                    await session.scalars(
                        sa.select(Notification).order_by(Notification.due_at, Notification.id)
                    )
                ).all()
            )
