"""Helpers of the notification tests: the FCM sender pointed at the stand-in, users, tokens."""

from __future__ import annotations

import datetime as dt
import uuid

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
