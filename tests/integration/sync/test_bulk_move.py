"""Bulk moves (``relocation.update_many``): many parents change scope key in one pass, their
children follow, devices on both keys see exactly the evictions and deliveries of single moves,
and the races of ``test_parent_move_races`` hold for the bulk path too (PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from protocol.sync import PushRequest
from server.db import Database
from server.sync import relocation
from server.sync.batch import decode_clocks
from server.sync.keysets import KeysetStore
from server.sync.models import sync_log, sync_records
from server.sync.push import PushService
from server.sync.writer import ChangeWriter
from tests.integration.sync.test_parent_move_races import (
    NEW,
    OLD,
    OVERLAP,
    _assert_under_new_key,
    _request,
    push_held_open,
)
from tests.integration.sync.toy import make_folder, make_note


async def _move_all(db: Database, writer: ChangeWriter, folders: list[uuid.UUID]) -> None:
    async with db.transaction() as session:
        await relocation.update_many(
            writer, session, "folder", {f: {"scope_key": NEW} for f in folders}
        )


@asynccontextmanager
async def _bulk_move_held_open(
    db: Database, writer: ChangeWriter, folders: list[uuid.UUID]
) -> AsyncIterator[None]:
    """The folders moved to NEW in one bulk transaction that commits when the block ends."""
    session = db.sessions()
    transaction = await session.begin()
    try:
        await relocation.update_many(
            writer, session, "folder", {f: {"scope_key": NEW} for f in folders}
        )
        yield
        await transaction.commit()
    finally:
        await session.close()


async def test_a_bulk_move_evicts_and_delivers_parents_and_children(toy_db, writer, make_device):
    old_rep, new_rep = await make_device(keys={OLD}), await make_device(keys={NEW})
    moving = [await make_folder(toy_db, writer, OLD, f"m{i}") for i in range(3)]
    staying = await make_folder(toy_db, writer, OLD, "s")
    notes = {
        f: [await make_note(toy_db, writer, f, title=f"{f}-{i}") for i in range(2)] for f in moving
    }
    kept_note = await make_note(toy_db, writer, staying, title="kept")
    await old_rep.pull_all()
    await new_rep.pull_all()
    assert len(old_rep.copy) == 11 and new_rep.copy == {}

    changes = {f: {"scope_key": NEW} for f in moving} | {staying: {"name": "renamed"}}
    async with toy_db.transaction() as session:
        wires = await relocation.update_many(writer, session, "folder", changes)
    assert {uuid.UUID(w["id"]) for w in wires.values()} == set(changes)
    assert all(w["version"] == 2 for w in wires.values())

    moved = {("folder", str(f)) for f in moving} | {
        ("note", str(n)) for group in notes.values() for n in group
    }
    await old_rep.pull_all()
    await new_rep.pull_all()
    assert set(old_rep.evicted) == moved and len(old_rep.evicted) == 9
    assert set(old_rep.copy) == {("folder", str(staying)), ("note", str(kept_note))}
    assert old_rep.copy[("folder", str(staying))]["name"] == "renamed"
    assert set(new_rep.copy) == moved and new_rep.evicted == []
    assert all(new_rep.copy[("folder", str(f))]["scope_key"] == NEW for f in moving)

    async with toy_db.sessions() as session:
        states = {
            (e, r): (k, v, decode_clocks(c))
            for e, r, k, v, c in await session.execute(
                sa.select(
                    sync_records.c.entity,
                    sync_records.c.record_id,
                    sync_records.c.scope_key,
                    sync_records.c.version,
                    sync_records.c.clocks,
                )
            )
        }
    for folder in moving:
        key, version, clocks = states[("folder", folder)]
        assert (key, version) == (NEW, 2) and clocks["scope_key"][0] == 2
        for note in notes[folder]:  # children keep their version; only their key changes
            assert states[("note", note)][:2] == (NEW, 1)
    assert states[("folder", staying)][:2] == (OLD, 2)
    assert "name" in states[("folder", staying)][2]


async def test_a_failed_bulk_move_leaves_nothing_behind(toy_db, writer):
    folder = await make_folder(toy_db, writer, OLD)
    await make_note(toy_db, writer, folder)
    with pytest.raises(RuntimeError):
        async with toy_db.transaction() as session:
            await relocation.update_many(writer, session, "folder", {folder: {"scope_key": NEW}})
            raise RuntimeError("boom")
    async with toy_db.sessions() as session:
        log = (await session.execute(sa.select(sync_log.c.scope_key, sync_log.c.op))).all()
        keys = (await session.execute(sa.select(sync_records.c.scope_key))).scalars().all()
    assert sorted(log) == [(OLD, "upsert"), (OLD, "upsert")] and keys == [OLD, OLD]


async def test_a_bulk_move_of_unknown_ids_writes_nothing_for_them(toy_db, writer):
    folder = await make_folder(toy_db, writer, OLD)
    async with toy_db.transaction() as session:
        wires = await relocation.update_many(
            writer, session, "folder", {folder: {"scope_key": NEW}, uuid.uuid4(): {"name": "x"}}
        )
    assert list(wires) == [folder]
    async with toy_db.sessions() as session:
        count = (
            await session.execute(sa.select(sa.func.count()).select_from(sync_records))
        ).scalar()
    assert count == 1


@pytest.fixture
def push_service(toy_db, settings, registry, writer) -> PushService:
    return PushService(toy_db, settings, registry, writer, KeysetStore())


def _postgres(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite serializes writers: a child's key cannot race its parent's move")


async def _race_setup(
    toy_db: Database, writer: ChangeWriter, rep: Any, *, edit: bool
) -> tuple[list[uuid.UUID], uuid.UUID, PushRequest]:
    """Three folders under OLD and a push of a note in the second one: an edit of an existing
    note (``edit``) or a create."""
    folders = [await make_folder(toy_db, writer, OLD) for _ in range(3)]
    if edit:
        note = await make_note(toy_db, writer, folders[1], title="before")
        mutation = rep.mutation("note", note, base_version=1, title="pushed")
    else:
        note = uuid.uuid4()
        mutation = rep.mutation("note", note, folder_id=str(folders[1]), title="pushed")
    return folders, note, _request(rep, mutation)


@pytest.mark.parametrize("edit", [False, True], ids=["create", "edit"])
async def test_a_child_pushed_while_a_bulk_move_runs_ends_under_the_new_key_push_first(
    toy_db, writer, make_device, push_service, monkeypatch, backend, edit
):
    _postgres(backend)
    rep = await make_device(keys={OLD, NEW})
    folders, note, request = await _race_setup(toy_db, writer, rep, edit=edit)
    async with push_held_open(monkeypatch, lambda: push_service.push(rep.principal, request)):
        move = asyncio.ensure_future(_move_all(toy_db, writer, folders))
        await asyncio.sleep(OVERLAP)
        waited = not move.done()  # the bulk move waits for the push's locks
    await asyncio.wait_for(move, 10)
    await _assert_under_new_key(toy_db, note, "pushed")
    assert waited


@pytest.mark.parametrize("edit", [False, True], ids=["create", "edit"])
async def test_a_child_pushed_while_a_bulk_move_runs_ends_under_the_new_key_move_first(
    toy_db, writer, make_device, push_service, backend, edit
):
    _postgres(backend)
    rep = await make_device(keys={OLD, NEW})
    folders, note, request = await _race_setup(toy_db, writer, rep, edit=edit)
    async with _bulk_move_held_open(toy_db, writer, folders):
        push = asyncio.ensure_future(push_service.push(rep.principal, request))
        await asyncio.sleep(OVERLAP)
        waited = not push.done()  # the push waits for the move, then reads the new key
    result = await asyncio.wait_for(push, 10)
    assert [r.status for r in result.results] == ["applied"]
    await _assert_under_new_key(toy_db, note, "pushed")
    assert waited


async def test_a_child_without_a_logged_payload_is_moved_with_its_stored_fields(
    toy_db, writer, make_device
):
    new_rep = await make_device(keys={NEW})
    folder = await make_folder(toy_db, writer, OLD)
    note = await make_note(toy_db, writer, folder, title="stored")
    async with toy_db.transaction() as session:  # the log lost the note's row (fault)
        await session.execute(sa.delete(sync_log).where(sync_log.c.record_id == note))
    await _move_all(toy_db, writer, [folder])
    await new_rep.pull_all()
    assert new_rep.copy[("note", str(note))]["title"] == "stored"


async def test_a_child_edited_earlier_in_the_moving_transaction_moves_with_its_edit(
    toy_db, writer, make_device
):
    # the note's state and log rows are still pending in the batch when its folder moves: it is
    # rekeyed through the batch (its new row), not copied from the log (its old row)
    old_rep, new_rep = await make_device(keys={OLD}), await make_device(keys={NEW})
    folder = await make_folder(toy_db, writer, OLD)
    edited = await make_note(toy_db, writer, folder, title="before")
    untouched = await make_note(toy_db, writer, folder, title="same")
    await old_rep.pull_all()
    async with toy_db.transaction() as session, writer.batch(session):
        await writer.update(session, "note", edited, {"title": "after"}, principal=None)
        await relocation.update_many(writer, session, "folder", {folder: {"scope_key": NEW}})
    await old_rep.pull_all()
    await new_rep.pull_all()
    assert new_rep.copy[("note", str(edited))]["title"] == "after"
    assert new_rep.copy[("note", str(untouched))]["title"] == "same"
    assert set(old_rep.evicted) == {("folder", str(folder)), ("note", str(edited))} | {
        ("note", str(untouched))
    }
    async with toy_db.sessions() as session:
        rows = (
            await session.execute(
                sa.select(
                    sync_log.c.record_id, sync_log.c.scope_key, sync_log.c.op, sync_log.c.version
                ).where(sync_log.c.entity == "note")
            )
        ).all()
    assert sorted((r, k, op, v) for r, k, op, v in rows) == sorted(
        [(edited, OLD, "evict", 2), (edited, NEW, "upsert", 2)]
        + [(untouched, OLD, "evict", 1), (untouched, NEW, "upsert", 1)]
    )


async def test_a_bulk_move_tells_the_move_observers_which_children_it_rekeyed(
    toy_db, writer, registry
):
    seen: list[dict[uuid.UUID, str]] = []

    async def observer(_session: Any, moved: Any) -> None:
        seen.append(dict(moved))

    registry.observe_moves("note", observer)
    moving = await make_folder(toy_db, writer, OLD)
    already = await make_folder(toy_db, writer, NEW)
    notes = [await make_note(toy_db, writer, moving) for _ in range(2)]
    await make_note(toy_db, writer, already)
    async with toy_db.transaction() as session:
        await relocation.update_many(
            writer, session, "folder", {moving: {"scope_key": NEW}, already: {"name": "x"}}
        )
    assert seen == [{note: NEW for note in notes}]  # once per level; the unmoved folder's none
