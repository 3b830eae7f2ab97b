"""Which writes bump which cache epoch (server/cache_epochs.py), in the writing transaction."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server import cache_epochs
from server.auth.last_seen import touch_device
from server.auth.models import AccessToken, Device, User
from server.db import Database, utcnow
from tests.builders import issue_token, make_user
from tests.integration.sfa.core_builders import add_member, make_account, make_territory


async def epochs(db: Database) -> dict[str, int]:
    cache_epochs.install()
    clock = cache_epochs.EpochClock(db, interval=0)
    return dict(await clock.current())


async def changed(db: Database, before: dict[str, int]) -> set[str]:
    after = await epochs(db)
    return {name for name, value in after.items() if value != before.get(name, 0)}


async def test_revoking_deactivating_and_new_passwords_bump_the_auth_epoch(db) -> None:
    rep = await make_user(db)
    _, device_id = await issue_token(db, rep)
    for statement in (
        sa.update(AccessToken).values(revoked_at=utcnow()),
        sa.update(Device).where(Device.id == device_id).values(active=False),
        sa.update(User).where(User.id == rep.id).values(password_hash="x"),
        sa.update(User).where(User.id == rep.id).values(active=False),
    ):
        before = await epochs(db)
        async with db.transaction() as session:
            await session.execute(statement)
        assert cache_epochs.AUTH in await changed(db, before), statement


async def test_an_orm_flush_that_changes_an_active_flag_bumps_the_auth_epoch(db) -> None:
    rep = await make_user(db)
    _, device_id = await issue_token(db, rep)
    before = await epochs(db)
    async with db.transaction() as session:
        device = await session.get(Device, device_id)
        assert device is not None
        device.active = False
    assert await changed(db, before) == {cache_epochs.AUTH}


async def test_last_seen_and_a_rolled_back_write_bump_nothing(db) -> None:
    rep = await make_user(db)
    _, device_id = await issue_token(db, rep)
    before = await epochs(db)
    async with db.transaction() as session:  # what a login writes to the device
        device = await session.get(Device, device_id)
        assert device is not None
        device.last_seen_at = utcnow()
    await touch_device(db, device_id, utcnow() - dt.timedelta(hours=1))
    try:
        async with db.transaction() as session:
            await session.execute(sa.update(AccessToken).values(revoked_at=utcnow()))
            raise RuntimeError("abandoned")
    except RuntimeError:
        pass
    assert await changed(db, before) == set()


async def test_membership_tree_and_manager_changes_bump_the_scope_epoch(db) -> None:
    manager = await make_user(db, "manager")
    rep = await make_user(db)
    before = await epochs(db)
    territory = await make_territory(db, "territory")
    assert cache_epochs.SCOPE in await changed(db, before)

    before = await epochs(db)
    await add_member(db, territory, rep.id)
    assert await changed(db, before) == {cache_epochs.SCOPE}

    before = await epochs(db)
    async with db.transaction() as session:
        await session.execute(
            sa.update(User).where(User.id == rep.id).values(manager_id=manager.id)
        )
    assert cache_epochs.SCOPE in await changed(db, before)


async def test_an_account_write_bumps_no_epoch(db) -> None:
    territory = await make_territory(db, "territory")
    before = await epochs(db)
    await make_account(db, territory_id=territory)
    assert await changed(db, before) == set()
