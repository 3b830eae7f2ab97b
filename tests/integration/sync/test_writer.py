"""The writer: bulk creation, field clocks, scope moves of children, tombstones of children."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from server.sync.batch import decode_clocks
from server.sync.models import sync_log, sync_records
from tests.integration.sync.toy import make_folder, make_note


async def test_create_many_logs_every_record_under_its_scope_with_children_following_parents(
    toy_db, writer, make_device
):
    north, south = uuid.uuid4(), uuid.uuid4()
    async with toy_db.transaction() as session:
        await writer.create_many(
            session,
            "folder",
            [
                {"id": north, "name": "n", "scope_key": "t:north"},
                {"id": south, "name": "s", "scope_key": "t:south"},
            ],
            principal=None,
        )
        count = await writer.create_many(
            session,
            "note",
            [
                {"id": uuid.uuid4(), "folder_id": north if i % 2 else south, "title": f"{i}"}
                for i in range(2500)
            ],
            principal=None,
        )
    assert count == 2500
    async with toy_db.sessions() as session:
        keys = dict(
            (
                await session.execute(
                    sa.select(sync_log.c.scope_key, sa.func.count()).group_by(sync_log.c.scope_key)
                )
            ).all()
        )
        states = (
            await session.execute(sa.select(sa.func.count()).select_from(sync_records))
        ).scalar_one()
    assert keys == {"t:north": 1251, "t:south": 1251}
    assert states == 2502
    rep = await make_device(keys={"t:north"})
    changes = await rep.pull_all(limit=500)
    assert len(changes) == 1251 and len(rep.copy) == 1251
    assert all(r.get("folder_id", str(north)) == str(north) for r in rep.copy.values())


async def test_field_clocks_record_version_hlc_and_device(toy_db, writer):
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder)
    device = uuid.uuid4()
    async with toy_db.transaction() as session:
        await writer.update(
            session,
            "note",
            note,
            {"title": "x"},
            principal=None,
            hlc="1700000000000-00001-d",
            device_id=device,
        )
    async with toy_db.sessions() as session:
        version, clocks = (
            await session.execute(
                sa.select(sync_records.c.version, sync_records.c.clocks).where(
                    sync_records.c.record_id == note
                )
            )
        ).one()
    assert version == 2
    clocks = decode_clocks(clocks)
    assert clocks["title"] == [2, "1700000000000-00001-d", str(device)]
    assert clocks["*"][0] == 1 and clocks["*"][2] is None


async def test_deleting_a_parent_leaves_tombstones_for_its_children(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    notes = [await make_note(toy_db, writer, folder) for _ in range(2)]
    await rep.pull_all()
    async with toy_db.transaction() as session:
        await writer.delete(session, "folder", folder, principal=None)
    changes = await rep.pull_all()
    assert {(c["entity"], c["op"]) for c in changes} == {("note", "delete"), ("folder", "delete")}
    assert changes[-1]["entity"] == "folder"  # children first: a device never holds orphans
    assert (
        rep.copy == {}
        and len(changes) == 3
        and {c["id"] for c in changes} >= {str(n) for n in notes}
    )


async def test_a_failed_transaction_leaves_no_log_rows(toy_db, writer):
    folder = await make_folder(toy_db, writer, "t:north")
    try:
        async with toy_db.transaction() as session:
            await writer.update(session, "folder", folder, {"name": "half"}, principal=None)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    async with toy_db.sessions() as session:
        rows = (await session.execute(sa.select(sync_log.c.version))).scalars().all()
    assert rows == [1]
