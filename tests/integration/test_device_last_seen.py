"""A device's ``last_seen_at`` follows its authenticated requests, to the minute (both backends)."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from server.auth.models import Device
from server.db import Database, utcnow
from tests.builders import issue_token, make_user


async def seen(db: Database, device_id: uuid.UUID) -> dt.datetime | None:
    async with db.sessions() as session:
        return await session.scalar(sa.select(Device.last_seen_at).where(Device.id == device_id))


async def set_seen(db: Database, device_id: uuid.UUID, when: dt.datetime | None) -> None:
    async with db.transaction() as session:
        await session.execute(
            sa.update(Device).where(Device.id == device_id).values(last_seen_at=when)
        )


async def test_last_seen_at_is_kept_current_on_every_authenticated_request(client, db) -> None:
    rep = await make_user(db)
    token, device_id = await issue_token(db, rep)
    headers = {"Authorization": f"Bearer {token}"}
    assert await seen(db, device_id) is None  # minted without a login

    before = utcnow()
    assert (await client.get("/auth/me", headers=headers)).status_code == 200
    first = await seen(db, device_id)
    assert first is not None and before <= first <= utcnow()

    await set_seen(db, device_id, utcnow() - dt.timedelta(minutes=5))
    # A process remembers what it wrote with the verified token; one that reads the token
    # afresh (another process, or this one once the entry ages out) sees the rewound value.
    client.app.state.tokens.clear()
    before = utcnow()
    assert (await client.get("/auth/devices", headers=headers)).status_code == 200
    refreshed = await seen(db, device_id)
    assert refreshed is not None and before <= refreshed <= utcnow()


async def test_last_seen_at_is_written_at_most_once_a_minute_per_device(client, db) -> None:
    rep = await make_user(db)
    token, device_id = await issue_token(db, rep)
    headers = {"Authorization": f"Bearer {token}"}
    recent = (utcnow() - dt.timedelta(seconds=40)).replace(microsecond=0)
    await set_seen(db, device_id, recent)

    for _ in range(3):
        assert (await client.get("/auth/me", headers=headers)).status_code == 200

    assert await seen(db, device_id) == recent  # under a minute old: no write


async def test_a_refused_token_does_not_touch_last_seen_at(client, db) -> None:
    rep = await make_user(db)
    token, device_id = await issue_token(db, rep, ttl=dt.timedelta(seconds=-1))
    response = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert await seen(db, device_id) is None


async def test_a_failed_last_seen_write_does_not_fail_the_request(tmp_path) -> None:
    from server.auth.last_seen import touch_device
    from server.db import create_engine

    broken = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/outpost.db"))
    try:
        await touch_device(broken, uuid.uuid4(), None)  # logs a warning, raises nothing
    finally:
        await broken.dispose()
